#!/usr/bin/env bash
# make demo: fedstate's whole job on one machine. Starts the local
# federation (three regions), runs the PostgreSQL fleet of
# config/samples/postgres.yaml, shows where its replicas went and what DNS
# answers, writes rows through the primary's DNS name, rehearses losing the
# primary's region with a RegionOutage drill, prints the drill's report and
# leaves everything running.
#
# Environment: FEDCTL (default bin/fedctl), FEDSTATE_LOCAL_DIR (the local
# federation's folder), DEMO_HOLD (how long the drill holds, default 10s),
# DEMO_LOAD (seconds of writes before the drill, default 10).
set -euo pipefail

cd "$(dirname "$0")/../.."
FEDCTL=${FEDCTL:-bin/fedctl}
HOLD=${DEMO_HOLD:-10s}
LOAD=${DEMO_LOAD:-10}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. Start the local federation (builds Kubernetes, etcd and kwok the first time: ~8 minutes)"
if "$FEDCTL" local status >/dev/null 2>&1; then
  echo "A local federation already runs; using it (fedctl local down stops it)."
else
  run "$FEDCTL" local up
fi
eval "$("$FEDCTL" local env)"
echo "KUBECONFIG=$KUBECONFIG FEDSTATE_DNS=$FEDSTATE_DNS"

step "2. Declare a PostgreSQL fleet: 5 replicas over 3 regions, a synchronous standby in another region"
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
run kubectl apply -f config/samples/postgres.yaml
printf 'Waiting for the replicas, the first primary and its synchronous standby'
for _ in $(seq 300); do
  # Five ready replicas, the primary in eu-1, promoted (not failing over)
  # and its synchronous standby streaming.
  state=$(kubectl get fss pg -n demo -o 'jsonpath={.status.readyReplicas}/{.status.primary.cluster}/{.status.conditions[?(@.type=="FailingOver")].status}/{.status.replicaStatuses[*].role}')
  if [[ $state == 5/eu-1/False/* && $state == *SyncStandby* ]]; then
    break
  fi
  printf '.'
  sleep 1
done
echo

step "3. Where the replicas run"
run "$FEDCTL" get clusters
run "$FEDCTL" status demo/pg

step "4. What every region's DNS answers"
run "$FEDCTL" dig primary.pg.demo.svc
run "$FEDCTL" dig _postgres._tcp.pg.demo.svc SRV

step "5. Write rows through primary.pg.demo.svc"
run "$FEDCTL" load demo/pg --dns-server "$FEDSTATE_DNS" --rate 20 --duration "${LOAD}s" --progress-interval 5s

step "6. Rehearse losing the primary's region (RegionOutage drill)"
drill=outage-$(date +%H%M%S)
run "$FEDCTL" drill run "$drill" -n demo --service pg --kind RegionOutage --hold-for "$HOLD" \
  --max-rto 30s --load-rate 20 --dns-server "$FEDSTATE_DNS"

step "7. The drill's report"
run "$FEDCTL" drill report "$drill" -n demo
report=$(kubectl get drill "$drill" -n demo -o 'jsonpath={.status.reportPath}')
echo
echo "Timeline picture: $report/timeline.svg (and timeline.png)"

step "Done"
echo "The federation keeps running: try fedctl get services -A, fedctl local status."
echo "Stop it with: $FEDCTL local down"
