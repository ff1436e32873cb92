#!/usr/bin/env bash
# Noisy-label experiment (issue 4 item 8) at a small CPU budget: CE vs SCN vs ARBEx on a seeded
# 5000-image FER2013 subset, 10% and 20% of the training labels flipped (same flips for every
# method: --seed 0), the same optimiser (Adam 1e-3, wd 1e-4: SCN's reference setting; SGD makes
# ARBEx's unbounded anchor loss grow exponentially), schedule and epochs for all; val WAR/UAR on
# the full FER2013 val split. Results: <work>/<method>-<noise>/log.jsonl.
# Usage: [FER2013=dir] [EPOCHS=5] [NOISES='0.1 0.2'] [METHODS='ce arbex scn'] scripts/noisy-labels.sh [work]
set -euo pipefail
WORK=${1:-/tmp/ferkit-noisy}
DATA=${FER2013:-../shared/data/fer2013}
EPOCHS=${EPOCHS:-5}
node scripts/subset-folder.mjs "$DATA/train" "$WORK/train5k" 5000 42
# 5000 / 64 = 78 steps an epoch: ARBEx's trust ramps over the whole run, as in the reference.
STEPS=$((EPOCHS * 78))
declare -A OBJ=([ce]='{}' [scn]='{"relabelEpoch":3}' [arbex]="{\"trustSteps\":$STEPS}")
for noise in ${NOISES:-0.1 0.2}; do
  for method in ${METHODS:-ce arbex scn}; do
    out="$WORK/$method-$noise"
    [ -f "$out/done" ] && continue
    node bin/ferkit.js train --method "$method" --dataset folder --root "$WORK/train5k" --val-root "$DATA/val" \
      --out "$out" --overwrite --epochs "$EPOCHS" --batch-size 64 --optimizer adam --lr 1e-3 --weight-decay 1e-4 --width 0.5 --workers 2 --seed 0 \
      --label-noise "$noise" --objective "${OBJ[$method]}" 2>&1 | grep -v 'npm warn' | tail -c 2000
    touch "$out/done"
  done
done
