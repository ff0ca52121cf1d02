# Sourced by bench/access-expiry.sh: the sshd sample. Expects root, purser, db_url, out and sample set
# (bench/worker-cluster.sh's cluster). sshd_sample_prepare starts an unprivileged sshd on a loopback
# ephemeral port trusting Purser's CA, turns the sampled grants into SSH grants (access-sshd-seed.sql)
# and has their holder ask a short-lived `purser serve` for each grant's certificate, for a key of
# its own; sshd_sample_try logs in with each before the grants end and again a second after each
# end, counting sshd's answers into sshd_before, sshd_after and the range sshd_after_min/max.

sshd_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

sshd_sample_cleanup() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null || true
  [ -n "${sshd_pid:-}" ] && kill "$sshd_pid" 2>/dev/null || true
  [ -n "${sshd_dir:-}" ] && rm -rf "$sshd_dir"
  bench_cleanup
}

sshd_sample_prepare() {
  trap sshd_sample_cleanup EXIT
  sshd_dir=$(mktemp -d /tmp/purser-bench-sshd-XXXXXX)
  chmod 755 "$sshd_dir"
  login=$(id -un)
  DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" admin init-ssh-ca | tail -1 >"$sshd_dir/ca.pub"
  ssh-keygen -q -t ed25519 -N "" -f "$sshd_dir/host_ed25519"
  mkdir "$sshd_dir/principals" "$sshd_dir/keys"
  echo "ax01.bench-sshd.$login" >"$sshd_dir/principals/$login"
  sshd_port=$(sshd_free_port)
  cat >"$sshd_dir/sshd_config" <<CONFIG
ListenAddress 127.0.0.1:$sshd_port
HostKey $sshd_dir/host_ed25519
PidFile $sshd_dir/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
TrustedUserCAKeys $sshd_dir/ca.pub
AuthorizedPrincipalsFile $sshd_dir/principals/%u
PermitRootLogin prohibit-password
LogLevel VERBOSE
CONFIG
  [ "$(id -u)" = 0 ] && mkdir -p /run/sshd
  /usr/sbin/sshd -D -e -f "$sshd_dir/sshd_config" >"$out/access-sshd.log" 2>&1 &
  sshd_pid=$!
  for _ in $(seq 50); do grep -q "Server listening" "$out/access-sshd.log" && break; sleep 0.2; done
  echo "[127.0.0.1]:$sshd_port $(cut -d' ' -f1,2 "$sshd_dir/host_ed25519.pub")" >"$sshd_dir/known_hosts"

  psql -q -tA -v sample="$sample" -v login="$login" -d "$db_url" -f bench/access-sshd-seed.sql >"$sshd_dir/sample.txt"
  local serve_port token id end
  serve_port=$(sshd_free_port)
  DATABASE_URL=$db_url PURSER_ROOT=$root PURSER_LISTEN=127.0.0.1:$serve_port PURSER_METRICS_LISTEN=off \
    "$purser" serve >"$out/access-serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$serve_port/api/openapi.json" && break; sleep 0.2; done
  token=$(DATABASE_URL=$db_url PURSER_ROOT=$root "$purser" admin create-token --email requester@ax01.test --tenant ax01 \
    --scopes access:request --expires 1d)
  while read -r id end; do
    ssh-keygen -q -t ed25519 -N "" -C "$id" -f "$sshd_dir/keys/$id"
    curl -sf -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
      -d "$(jq -n --arg key "$(cat "$sshd_dir/keys/$id.pub")" '{public_key: $key}')" \
      "http://127.0.0.1:$serve_port/api/v1/access/grants/$id/certificate?tenant=ax01" | jq -r .certificate >"$sshd_dir/keys/$id-cert.pub"
  done <"$sshd_dir/sample.txt"
  kill "$serve_pid"
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
}

# sshd_login ID: one login with the grant's key and certificate; sshd's verdict is the exit status.
sshd_login() {
  ssh -F /dev/null -i "$sshd_dir/keys/$1" -o CertificateFile="$sshd_dir/keys/$1-cert.pub" -o IdentitiesOnly=yes \
    -o IdentityAgent=none -o BatchMode=yes -o UserKnownHostsFile="$sshd_dir/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o ConnectTimeout=5 -p "$sshd_port" -l "$login" 127.0.0.1 true 2>>"$out/access-ssh-client.log"
}

sshd_sample_try() {
  local id end now wait_for tried late
  sshd_before=0 sshd_after=0 sshd_after_min= sshd_after_max=
  while read -r id end; do sshd_login "$id" </dev/null && sshd_before=$((sshd_before + 1)); done <"$sshd_dir/sample.txt"
  # Earliest end first: each is tried a second after its own end.
  while read -r id end; do
    now=$(date +%s.%N)
    wait_for=$(awk -v e="$end" -v n="$now" 'BEGIN { d = e + 1 - n; print (d > 0 ? d : 0) }')
    sleep "$wait_for"
    tried=$(date +%s.%N)
    sshd_login "$id" </dev/null || sshd_after=$((sshd_after + 1))
    late=$(awk -v e="$end" -v t="$tried" 'BEGIN { printf "%.2f", t - e }')
    sshd_after_min=$(awk -v m="${sshd_after_min:-$late}" -v l="$late" 'BEGIN { print (l < m ? l : m) }')
    sshd_after_max=$(awk -v m="${sshd_after_max:-$late}" -v l="$late" 'BEGIN { print (l > m ? l : m) }')
  done <"$sshd_dir/sample.txt"
}
