#!/usr/bin/env bash
# Rebuilds the bundled model (models/fer2013-cnn) from FER2013: two fer-cnn classifiers trained
# by `ferkit train`, selected on val, then joined with `ferkit ensemble --mirror`.
# Every stage resumes where it stopped (run it again after an interruption); the members' logs are
# in models/fer2013-cnn/training-log.jsonl. Usage: [FER2013=dir] scripts/train-bundled.sh [work] [out]
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

# Two members: width 1, 24 epochs at lr 0.1 from scratch, seeds 1 and 2 (~90 min each on 2 cores).
train "$WORK/m1" --width 1 --lr 0.1 --warmup 1 --epochs 24 --seed 1
train "$WORK/m2" --width 1 --lr 0.1 --warmup 1 --epochs 24 --seed 2

# Their mean, each member also on the mirrored face (flip TTA built in: plain eval is the figure).
$FERKIT ensemble --model "$WORK/m1/best" --model "$WORK/m2/best" --mirror --out "$OUT"
$FERKIT eval --model "$OUT" --data "$DATA/val"
