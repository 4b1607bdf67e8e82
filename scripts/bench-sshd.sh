# shellcheck shell=bash
# Sourced by the benchmarks that need an sshd (bench-carry.sh,
# bench-migrate.sh), from the repository's root: makes their work
# directory $work under $dir (the caller's, made), builds bbimport into
# $work/bbimport, and starts an sshd on 127.0.0.1 with a host key, a client
# key and its configuration under $work, and a HOME ($home) whose .ssh holds
# the client key and a known_hosts naming the server. Sets work, home, port,
# user, and ssh_opts (what ssh and scp need to log in as user). Every server
# a benchmark starts leaves its pid in a .pid file of $work (sshd's is
# sshd.pid): on exit each is stopped (stop FILE) and $work removed.
work=$(mktemp -d "${dir:?}/$(basename "$0" .sh | sed 's/^bench-//').XXXXXX")
chmod 755 "$work"
stop() { if [[ -f $1 ]]; then kill "$(cat "$1")" 2>/dev/null || true; fi; }
cleanup() {
  for f in "$work"/*.pid; do stop "$f"; done
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/bbimport" .
home=$work/home
mkdir -p "$home/.ssh" "$work/dst"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$home/.ssh/id_ed25519"
cp "$home/.ssh/id_ed25519.pub" "$work/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $work/host_ed25519
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
Subsystem sftp internal-sftp
CONF
echo "[127.0.0.1]:$port $(cat "$work/host_ed25519.pub")" >"$home/.ssh/known_hosts"
[[ $(id -u) == 0 ]] && mkdir -p /run/sshd
/usr/sbin/sshd -f "$work/sshd_config"
for _ in $(seq 50); do [[ -s $work/sshd.pid ]] && break; sleep 0.1; done
# shellcheck disable=SC2034 # for the caller
user=$(id -un)
# shellcheck disable=SC2034 # for the caller
ssh_opts=(-o UserKnownHostsFile="$home/.ssh/known_hosts" -o IdentitiesOnly=yes -i "$home/.ssh/id_ed25519")
