export const MAIN_USAGE = `Usage: smb3d <command> [options]

An SMB 2/3 file server with SMB3 multichannel.

Commands:
  serve           run the server
  user add NAME   add a user, or change its password
  user del NAME   remove a user
  user list       list users
  get //HOST[:PORT]/SHARE/PATH LOCAL   copy a file from a server
  put LOCAL //HOST[:PORT]/SHARE/PATH   copy a file to a server

Options:
  -h, --help      show help (also: smb3d <command> --help)
  -V, --version   print the version
`;

export const PASSDB_DEFAULTS = `The user database (passdb) is, in order of preference:
  --passdb FILE, "smb3d:passdb = FILE" in [global] of the config file,
  $SMB3D_PASSDB, /var/lib/smb3d/passdb when running as root,
  otherwise $XDG_CONFIG_HOME/smb3d/passdb (~/.config/smb3d/passdb).`;

export const SERVE_USAGE = `Usage: smb3d serve [options]

Serves directories over SMB 2/3. At least one share is needed, from --share or
from the config file.

Options:
  --share NAME=PATH   share directory PATH as NAME (read-write, no guests); repeatable
  --config FILE       read an smb.conf-style file ([global] and one section per share)
  --port N            TCP port (default 445, or "smb ports" from the config; 0 picks a free one)
  --listen ADDR       listen on ADDR only; repeatable (default: all addresses)
  --passdb FILE       user database (see below)
  --log-level LEVEL   fatal, error, warn, info (default), debug, trace or silent
  -h, --help          show this help

Logs are JSON lines on stdout; once bound, one "listening" line carries the
bound "port" and "addresses".

Port 445 needs root or CAP_NET_BIND_SERVICE; use e.g. --port 4445 otherwise.

${PASSDB_DEFAULTS}

Example:
  smb3d user add alice
  smb3d serve --share data=/srv/data --port 4445
`;

export const USER_USAGE = `Usage: smb3d user <add|del|list> [NAME] [options]

  smb3d user add NAME [--password-stdin]   add NAME or change its password
  smb3d user del NAME                      remove NAME
  smb3d user list                          list user names

Options:
  --passdb FILE       user database (see below)
  --config FILE       take the passdb path from "smb3d:passdb" in this config file
  --password-stdin    read the password from the first line of stdin;
                      otherwise it is asked twice on the terminal (never from argv)
  -h, --help          show this help

${PASSDB_DEFAULTS}
`;

export const TRANSFER_USAGE = `Usage: smb3d get //HOST[:PORT]/SHARE/PATH LOCAL -U USER [--password-stdin]
       smb3d put LOCAL //HOST[:PORT]/SHARE/PATH -U USER [--password-stdin]

Copies one file with smb3d's own SMB 3.1.1 client (signed; sealed when the server asks).
The password is asked without echo, or read from the first line of stdin with --password-stdin.
On failure the exit status is 1 and the message names the NTSTATUS.

Options:
  -U, --user [DOMAIN/]USER   user to log on as
  --password-stdin           read the password from stdin
`;
