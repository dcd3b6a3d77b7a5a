export const MAIN_USAGE = `Usage: smb3d <command> [options]

An SMB 2/3 file server with SMB3 multichannel.

Commands:
  serve           run the server
  user add NAME   add a user, or change its password
  user del NAME   remove a user
  user list       list users
  copy SRC DST    copy a file to or from a server (one of them //HOST/SHARE/PATH)
  get REMOTE LOCAL, put LOCAL REMOTE   the same, with the direction checked

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

export const TRANSFER_USAGE = `Usage: smb3d copy SRC DST -U USER [options]
       smb3d get //HOST[:PORT]/SHARE/PATH LOCAL -U USER [options]
       smb3d put LOCAL //HOST[:PORT]/SHARE/PATH -U USER [options]

Copies one file with smb3d's own SMB 3.1.1 client (signed; sealed when the server
asks). The side written //HOST[:PORT]/SHARE/PATH is the server's. A destination that
is a directory, or ends with /, gets the source's name.

With SMB 3 multichannel the client binds more channels to the addresses the server
advertises and spreads READs and WRITEs over them by link speed; a channel that
fails is given up and its requests replayed on the others. When the last one fails
the copy reconnects and goes on where it stopped (--retries times). A copy that
stopped can be finished later with --resume.

Options:
  -U, --user [DOMAIN/]USER   user to log on as
  --password-stdin           read the password from the first line of stdin
                             (otherwise it is asked without echo)
  --channels N               channels in all, 1 to 32 (default 4; fewer when the
                             server advertises fewer)
  -c, --resume               go on from what the destination already holds (its
                             size; an upload rewrites the last 16 MiB to be safe)
  --retries N                reconnections after a lost connection (default 3)
  -h, --help                 show this help

Progress goes to stderr: a bar on a terminal, a line per 10% otherwise.

Exit status:
  0  copied              4  logon refused (user or password)
  1  other failure       5  share or remote file not found
  2  usage error         6  access denied or file in use on the server
  3  server unreachable  7  the local file could not be read or written
     or connection lost  8  --resume: the destination is larger than the source
`;
