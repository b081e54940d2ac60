cd /tmp
zypper -n --no-gpg-checks install /tmp/kesl-12.1.0-1297.x86_64.rpm /tmp/kesl-gui-12.1.0-1297.x86_64.rpm
kesl-control --app-info
kesl-control --set-app-settings UseKSN=No
systemctl status kesl
