// node examples/classify.mjs model.onnx face.jpg   (a model written by `mek export --out model.onnx`)
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
const [model, image] = process.argv.slice(2);
const classes = ['Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral']; // mek.classes in the file
const session = await ort.InferenceSession.create(model);
const size = session.inputMetadata?.[0]?.shape?.[2] ?? 112; // mek.image_size in the file
const { data } = await sharp(image).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
const x = new Float32Array(3 * size * size); // NCHW, (pixel / 255 - 0.5) / 0.5: mek.mean, mek.std
for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) x[c * size * size + i] = (data[i * 3 + c] / 255 - 0.5) / 0.5;
const { logits } = await session.run({ image: new ort.Tensor('float32', x, [1, 3, size, size]) });
console.log(classes[logits.data.indexOf(Math.max(...logits.data))]);
