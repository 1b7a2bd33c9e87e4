// Training-time image augmentations (timm/PIL semantics) and the train/eval transforms.
export * from './erasing.ts';
export * from './flip.ts';
export * from './geometry.ts';
export * from './normalize.ts';
export * from './ops.ts';
export * from './randaugment.ts';
export * from './transform.ts';
export { fillFromMean, roundHalfEven, type Fill } from './util.ts';
