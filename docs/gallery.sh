#!/usr/bin/env bash
# The documentation's gallery, from scratch: every figure and table in docs/ and the command that made it.
#
#     bash docs/gallery.sh [STUDY_DIR]        (default study/gallery; about 14 minutes on 2 cores)
#
# Each study is an ordinary sweep folder under STUDY_DIR (interrupt and rerun: it continues); the
# figures and tables the documentation shows are copied into docs/. Needs matplotlib: pip install -e '.[plot]'.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-study/gallery}
bb() { batched-bandit "$@"; }

# 1. The seed's rule against temperature (seed arms, lr 0.01, 50 x 1,000 steps).
bb sweep --temperature 0.01:100:25:log --n-bandits 10000 --out "$S/temperature" --no-progress
cp "$S/temperature/success.png" docs/temperature.png
cp "$S/temperature/p_best.png" docs/temperature_p_best.png
cp "$S/temperature/learning_curves.png" docs/learning_curves.png
cp "$S/temperature/results.csv" docs/temperature.csv

# 2. Success against the gap between two arms (threshold arms 0 and -g), at three temperatures.
gaps=(0.01 0.02 0.03 0.05 0.07 0.1 0.15 0.2 0.3 0.5 0.7 1 1.5)
bb sweep $(for g in "${gaps[@]}"; do printf -- "--arms 0,-%s " "$g"; done) --temperature 0.1,1,10 \
    --n-bandits 10000 --out "$S/gap" --no-progress --no-figures
bb plot "$S/gap" --x gap --lines temperature
cp "$S/gap/success.png" docs/gap.png

# 3. Success against the horizon (steps per episode; 50 episodes), at three temperatures.
bb sweep --steps 10:3000:12:log --temperature 0.03,0.1,1 --n-bandits 10000 --out "$S/horizon" \
    --no-progress --no-figures
bb plot "$S/horizon" --x steps_per_episode --lines temperature
cp "$S/horizon/success.png" docs/horizon.png

# 4. Does eta / gap^2 collapse the curves? Four two-arm gaps x 16 temperatures, on one axis.
bb sweep --arms 0,-0.05 --arms 0,-0.1 --arms 0,-0.2 --arms 0,-0.4 --temperature 0.003:3:16:log \
    --n-bandits 10000 --out "$S/collapse" --no-progress --no-figures
bb plot "$S/collapse" --x eta_over_gap2 --lines arms
cp "$S/collapse/success.png" docs/collapse.png
cp "$S/collapse/results.csv" docs/collapse.csv

# 5. Where does the seed's rule cross 90% success along the temperature? And with the mean baseline?
bb threshold --axis temperature --target 0.9 --n-bandits 10000 --out "$S/threshold" --no-progress \
    | tee docs/threshold.txt
cp "$S/threshold/threshold.png" docs/threshold.png
bb threshold --axis temperature --target 0.9 --baseline mean --n-bandits 10000 --out "$S/threshold_mean" \
    --no-progress --no-figures | tee docs/threshold_mean.txt

# 6. Paired comparisons (shared random numbers): a nearby temperature, and the mean baseline.
bb sweep --temperature 0.1,0.12 --baseline none,mean --n-bandits 10000 --out "$S/pairs" --no-progress --no-figures
bb compare "$S/pairs" --a temperature=0.1 baseline=none --b temperature=0.12 baseline=none \
    --a temperature=0.1 baseline=none --b temperature=0.1 baseline=mean | tee docs/compare.txt

# 7. The rule's design choices: five rules against temperature and against their effective step.
python docs/rules.py --out "$S/rules"

# 8. Sutton & Barto's 10-armed testbed (section 2.8, figure 2.5): means ~ N(4, 1) per bandit,
#    unit-variance Gaussian rewards, T = 1, alpha = 0.1 and 0.4, with and without the baseline.
bb sweep --means normal:10:4:1 --temperature 1 --lr 0.1,0.4 --baseline none,mean --episodes 50 --steps 20 \
    --n-bandits 20000 --out "$S/testbed" --no-progress --no-figures
bb plot "$S/testbed" --x lr --lines baseline
cp "$S/testbed/learning_curves.png" docs/testbed.png
python - "$S/testbed" <<'EOF' | tee docs/testbed.txt
import sys
from batched_bandit.study import open as open_study
with open_study(sys.argv[1]) as study:
    for row in study.rows():
        curve = [c for c in study.curves() if c["setting"] == row["setting"]]
        at = {c["step"]: c for c in curve}
        print(f"lr {row['lr']:<4} baseline {row['baseline'] or 'none':<5} mean P(best) at step "
              + ", ".join(f"{s}: {at[s]['mean_p_best']:.3f} [{at[s]['p_best_ci_low']:.3f}, {at[s]['p_best_ci_high']:.3f}]"
                          for s in (100, 500, 1000)))
EOF

# 9. The field's baselines (findings/baselines.md): Sutton & Barto's parameter study (figure 2.6),
#    and regret against log t on Bernoulli arms with the Lai-Robbins bound.
bb sweep --out "$S/parameter_study" --policy epsilon_greedy,greedy,ucb,gradient --means normal:10:0:1 \
    --epsilon 0.0078125:0.25:6:log --initial-value 0.25:4:5:log --step-size 0.1 --ucb-c 0.0625:4:7:log \
    --lr 0.03125:4:8:log --temperature 1 --baseline mean --episodes 1 --steps 1000 --n-bandits 10000 \
    --no-progress --no-figures
bb plot "$S/parameter_study" --x param --y reward --lines policy
cp "$S/parameter_study/reward.png" docs/parameter_study.png
bb sweep --out "$S/regret" --policy ucb,thompson,gradient --win-prob 0.6,0.5,0.45,0.4 --reward-values 1,0 \
    --ucb-c 1.4142135623730951 --temperature 1 --lr 0.1 --baseline mean --episodes 1 --steps 4000 \
    --record-every 20 --n-bandits 2000 --no-progress --no-figures
bb plot "$S/regret" --x step --y regret
cp "$S/regret/regret_over_steps.png" docs/regret_over_steps.png
