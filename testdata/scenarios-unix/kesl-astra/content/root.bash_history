kesl-control --app-info > /root/kesl-app-info-2024-06.txt
export HISTTIMEFORMAT='%F %T '
#1726826400
kesl-control --set-app-settings UseKSN=No
#1726826460
kesl-control --export-settings --file /opt/kaspersky/kesl/kesl_full.ini
#1732525190
dpkg -P kesl-gui-astra kesl-astra
