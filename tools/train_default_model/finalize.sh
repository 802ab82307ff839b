#!/bin/sh
# Waits for the training runs to finish, then export + verify + evaluate + parity + model card.
set -e
cd "$(dirname "$0")"
RUN=${RUN:-runs/main}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 TORCH_THREADS=1
while [ ! -f $RUN/unet_final.pt ] || [ ! -f $RUN/vae_decft_final.pt ]; do sleep 10; done
date -u +"%FT%TZ finalize start"
/usr/bin/python3 export.py --run-dir $RUN > runs/export.log 2>&1 &
EXP=$!
/usr/bin/python3 evaluate.py --run-dir $RUN --save-grid runs/eval_grid.png > runs/eval.log 2>&1 &
EV=$!
/usr/bin/python3 parity.py --run-dir $RUN > runs/parity.log 2>&1
wait $EXP
date -u +"%FT%TZ export done"
/usr/bin/python3 verify_onnx.py --run-dir $RUN > runs/verify.log 2>&1
/usr/bin/python3 tokenizer_cases.py > /dev/null
wait $EV
date -u +"%FT%TZ eval done"
/usr/bin/python3 write_card.py --run-dir $RUN --status final > /dev/null
date -u +"%FT%TZ finalize done"
