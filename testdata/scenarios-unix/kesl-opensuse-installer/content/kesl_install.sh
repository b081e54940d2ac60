#!/bin/bash
# stand-in: kaspersky-installer/kesl_install.sh of comexr/kesl-installer (not reproduced).
# It downloads kesl and kesl-gui to /tmp, installs them with
# "sudo zypper -n --no-gpg-checks install" on openSUSE, sets USE_KSN= in
# ./kaspersky-installer/setup.txt and runs
# sudo /opt/kaspersky/kesl/bin/kesl-setup.pl --autoinstall=./kaspersky-installer/setup.txt
exit 0
