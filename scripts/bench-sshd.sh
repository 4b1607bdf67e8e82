# Sourced by the benchmarks that need an sshd: starts one on 127.0.0.1 with
# a host key, a client key and its configuration under $work (which the
# caller made, and whose cleanup kills $work/sshd.pid), and a HOME
# ($home) whose .ssh holds the client key and a known_hosts naming the
# server. Sets home and port.
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

