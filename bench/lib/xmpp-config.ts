// Generated configurations for the XMPP reference servers, from the ones that ran on this machine
// (/work/shared/bench-peers): loopback only, plain TCP c2s on a free port, anonymous SASL sign-in,
// MUC on conference.<domain> without history or archive, everything in memory and in one scratch
// folder. ejabberd's listener backlog (default 5) and MUC occupant limits (200) are raised so a
// run of thousands of sockets and rooms of 2,000 measure the server, not its defaults (Prosody's
// MUC has no occupant limit; its listen backlog of 128 is raised too).

export const XMPP_DOMAIN = 'localhost';
export const MUC_DOMAIN = `conference.${XMPP_DOMAIN}`;
/** Occupants per room and per MUC service: above the largest fan-out room (2,000). */
const MAX_OCCUPANTS = 10_000;

export function ejabberdYml(port: number): string {
  return `hosts:
  - ${XMPP_DOMAIN}
loglevel: warning
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: all
    starttls_required: false
auth_method: anonymous
anonymous_protocol: sasl_anon
allow_multiple_connections: true
shaper_rules:
  max_user_sessions: 10000
  c2s_shaper: none
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: all
  c2s:
    allow: all
  announce:
    deny: all
  configure:
    deny: all
  muc_create:
    allow: all
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_muc:
    host: ${MUC_DOMAIN}
    access: all
    access_create: muc_create
    access_persistent: muc_create
    access_admin: none
    history_size: 0
    max_users: ${MAX_OCCUPANTS}
    max_user_conferences: 100
    min_message_interval: 0
    min_presence_interval: 0
    default_room_options:
      mam: false
      persistent: false
      max_users: ${MAX_OCCUPANTS}
`;
}

/**
 * Prosody's config (Lua); `dir` holds its pidfile, data and log. Its garbage collector stays at
 * Prosody's default (incremental, threshold 105): measured here, that makes a delivery cost about
 * twice as much CPU after 1,200 sessions came and went (idle runs before fan-out) as on a fresh
 * server (~100 → ~220 µs), where `gc = { mode = "generational" }` would cost ~60 → ~70 µs. The
 * benchmark measures the server as Debian ships it.
 */
export function prosodyCfg(port: number, dir: string): string {
  const lua = (s: string) => JSON.stringify(s);
  return `pidfile = ${lua(`${dir}/prosody.pid`)}
data_path = ${lua(`${dir}/data`)}
certificates = ${lua(`${dir}/certs`)}
daemonize = false
log = { warn = ${lua(`${dir}/prosody.log`)} }
network_backend = "epoll"
network_settings = { tcp_backlog = 1024 }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
admin_interfaces = {}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
storage = "memory"
modules_enabled = { "saslauth", "disco", "ping", "roster" }
modules_disabled = { "s2s", "offline", "admin_shell", "posix" }
VirtualHost ${lua(XMPP_DOMAIN)}
  authentication = "anonymous"
Component ${lua(MUC_DOMAIN)} "muc"
  max_history_messages = 0
  muc_room_default_history_length = 0
  restrict_room_creation = false
  muc_room_locking = false
  muc_tombstones = false
`;
}
