#!/bin/sh
# The paper's RAF-DB run (configs/rafdb.yaml). Extra arguments pass through, for example:
#   sh train_exp.sh --set train.batch_size=64 --backend tensorflow
set -e
cd "$(dirname "$0")"
exec npx mek train --config configs/rafdb.yaml "$@"
