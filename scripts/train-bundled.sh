#!/usr/bin/env bash
# Rebuilds the bundled model (models/fer2013-cnn) from FER2013: two fer-cnn classifiers trained
# by `ferkit train`, selected on val, then folded into one network with `ferkit ensemble`.
# Every stage resumes where it stopped (run it again after an interruption). The first member was
# trained in two sessions (see models/fer2013-cnn/training-log.jsonl); this script gives it one
# schedule of the same length. Usage: [FER2013=dir] scripts/train-bundled.sh [work] [out]
set -euo pipefail
WORK=${1:-/tmp/ferkit-bundled}
OUT=${2:-$WORK/fer2013-cnn}
DATA=${FER2013:-../shared/data/fer2013}
FERKIT="node bin/ferkit.js"
mkdir -p "$WORK"
for split in train val; do
  [ -f "$WORK/$split.fkpack" ] || $FERKIT data pack --dataset folder --root "$DATA/$split" --out "$WORK/$split.fkpack"
done
RECIPE=(--method ce --dataset packed --root "$WORK/train.fkpack" --val-root "$WORK/val.fkpack" --batch-size 256
  --nesterov --weight-decay 5e-4 --tta --objective '{"labelSmoothing":0.1}')

train() { # <out> <args...>: train, or resume an interrupted run; <out>/done marks it finished
  local out=$1
  shift
  [ -f "$out/done" ] && return
  local resume=()
  [ -f "$out/checkpoint.safetensors" ] && resume=(--resume)
  $FERKIT train "${RECIPE[@]}" --out "$out" "${resume[@]}" "$@"
  touch "$out/done"
}

# Member A: width 0.5, 17 epochs at lr 0.1, then 12 fine-tuning epochs at lr 0.02 from its best.
train "$WORK/a" --width 0.5 --lr 0.1 --warmup 1 --epochs 17 --seed 0
train "$WORK/a-ft" --width 0.5 --lr 0.02 --epochs 12 --seed 0 --init "$WORK/a/best"
# Member B: width 1, 24 epochs at lr 0.1, another seed.
train "$WORK/b" --width 1 --lr 0.1 --warmup 1 --epochs 24 --seed 1

$FERKIT ensemble --model "$WORK/a-ft/best" --model "$WORK/b/best" --out "$OUT"
$FERKIT eval --model "$OUT" --data "$DATA/val" --tta
