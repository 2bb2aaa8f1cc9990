// Package policy parses and evaluates Lockbox policy: who may request which
// role on which resources, who must approve, and what a grant allows.
//
// Parse (or LoadDir) validates a policy once, strictly; the resulting Policy
// is read-only and its methods do no I/O: CheckRequest, Requirements,
// CheckApprover, Outstanding and MatchCommand are pure functions of the
// policy and their arguments. Holder swaps policies on reload, keeping the
// old one when the new one is bad.
//
// # Files
//
// A policy is a directory of YAML files (*.yaml or *.yml, read in name
// order, not recursively; hidden files are skipped). Each file holds one YAML
// document, a mapping with any of the keys settings, users, groups, teams,
// roles, resources, bastions and notifications. Lists from all files are
// merged: a team may name users defined in another file. Empty files are
// fine. Anchors may be used but aliases may not.
//
// Parsing is strict. Unknown fields, a name defined twice (in one file or
// two; the error names both places), a reference to a name that is not
// defined, and malformed values are errors. Every error reads
// FILE:LINE: message, with the line of the offending value, and all errors
// found are reported together, one per line.
//
// # Names
//
// Users, groups, teams, roles, resources, bastions and tags are named with 1
// to 63 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or
// a digit. So ROLE@RESOURCE is always a safe SSH certificate principal: no
// '@' inside a name, no wildcard, comma, whitespace or control character.
// Names of each kind are separate (a group may share a user's name), except
// that users and bastions, which both sign in to the CA by name, may not
// share one.
//
// # settings
//
// Optional, at most once across all files; every field is optional.
//
//	settings:
//	  max_active_grants_per_user: 3     # default 3, at least 1
//	  max_pending_requests_per_user: 5  # default 5, at least 1
//	  default_max_duration: 4h          # default 4h; for roles without max_duration
//	  auditors: [sre]                   # groups that read the audit log and sessions
//	  command_gate: /usr/local/bin/lockbox-gate   # the default; see roles
//
// Durations are Go durations (30m, 2h, 1h30m), positive and at most 168h.
// Members of the auditors groups may read the audit log, list and replay
// sessions and revoke grants (see IsAuditor); with none, nobody may.
// command_gate is where targets have lockbox-gate: the force_command of
// roles with allowed_commands that name none. It must be an absolute path
// to a file named lockbox-gate, in letters, digits, '.', '_', '+', '-' and
// '/', without arguments.
//
// # users and groups
//
//	users:
//	  - name: alice
//	    keys: ["ssh-ed25519 AAAA... alice@laptop"]
//	    groups: [security]
//	    email: alice@example.com   # optional: where notifications to her go
//	groups:
//	  - name: security
//	    description: Security on-call
//
// email is one bare address (no display name, no list), at most 254
// characters, and no two users share one (compared in any case): it is
// where email notifications that address the person go.
// It is contact data: no page, API answer or audit record shows it.
//
// keys holds at least one public key, each an authorized_keys line without
// options. Certificates, DSA keys and RSA keys under 2048 bits are refused.
// A key may belong to only one user or bastion. Keys identify their owner to
// the CA; they open no host. groups must name defined groups; a group's
// members are the users that list it.
//
// A group may be bound to a group of the organisation's directory:
//
//	groups:
//	  - name: sre
//	    idp_group: "Site Reliability"   # the directory group's name
//
// Its members are then also the people the directory puts in that group
// (SCIM pushes; OIDC sign-in), compared in any case; the users that list
// the group stay members too. See WithDirectory.
//
// # teams
//
//	teams:
//	  - name: storage
//	    description: Storage engineering     # optional
//	    members: [alice, bob]
//	    managers: [carol]
//	    eligible:
//	      - roles: [reader, admin]
//	        resources: [db-1, "tag:storage"]
//
// Members may request any of an entry's roles on any of its resources; a
// resource is listed by name or as tag:X for every resource tagged X (X must
// be a tag that some resource has). Managers approve requests that need
// "managers"; a manager is not a member, and so may request nothing through
// the team, unless also listed in members. Every name must be defined.
//
// # Dates
//
// A membership and an eligibility entry may carry from: and until: (as
// Azure PIM's eligible assignments have a start and an end):
//
//	teams:
//	  - name: storage
//	    members:
//	      - alice
//	      - {name: bob, from: 2026-11-01, until: 2026-11-30}
//	    eligible:
//	      - roles: [admin]
//	        resources: [db-1]
//	        until: "2026-12-31T18:00:00Z"
//
// A value is an RFC 3339 date (a whole UTC day) or an RFC 3339 time with
// its offset. from: is the first instant in effect: a date, that day's
// 00:00 UTC. until: with a date is inclusive, the whole day: "until:
// 2026-11-30" holds through 2026-11-30T23:59:59.999Z and ends at
// 2026-12-01T00:00:00Z; until: with a time is the first instant no longer
// in effect. until: must come after from:; years outside 2000 to 2199 are
// refused as typos. A dated member is written as a mapping with name:, and
// needs at least one of the two dates.
//
// Eligibility is checked at a time (CheckRequest and Recheck take it): a
// member may request what an entry gives only while both the membership
// and the entry are in effect, and an undated way to the same role and
// resource (another team, another entry) still counts. When only dates
// stand in the way the refusal names the date: "alice's eligibility for
// reader on db-1 ended on 2026-11-30" (ErrEligibilityEnded), "... starts
// on 2026-11-01" (ErrEligibilityNotYet); both also match ErrOutOfScope.
// Dates bound what a member may request; "managers: true" approvals count
// the managers of every team that lists the requester, dated or not (the
// request itself is refused outside its dates, at approval too). Endings
// lists what ends within a lead time, for the notice given before it ends.
//
// # roles
//
//	roles:
//	  - name: reader
//	    description: Read-only diagnostics    # optional
//	    login: ops                  # required: the account on the target
//	    max_duration: 2h            # default: settings.default_max_duration
//	    interactive: false          # true permits a PTY and a shell
//	    allowed_commands: ["systemctl status *", "journalctl -u * **"]
//	    force_command: /usr/local/bin/lockbox-gate   # optional
//	    ticket_required: false
//	    step_up_mfa: false          # true: a fresh TOTP code to fetch a certificate and to approve
//	    silent_watch: false         # true: users are not told who watches their sessions live
//	    approval:
//	      require:
//	        - {managers: true, count: 1}
//	        - {group: security}
//	      escalate_after: 2h        # optional, with escalate_to
//	      escalate_to: sre
//
// login is a POSIX account name: 1 to 32 characters from a-z, 0-9, '_' and
// '-', not starting with a digit or '-'. allowed_commands are MatchCommand
// patterns (see Commands); empty allows any command. They are enforced by
// the bastion and again on the target by the command gate, lockbox-gate,
// which runs the matched words without a shell. So a role with
// allowed_commands always runs through the gate: its force_command, if
// given, must be the gate's path (as for settings.command_gate), and
// without one the role gets settings.command_gate. The certificate's
// force-command is then the gate, "--" and the patterns, each
// single-quoted. Such a role may not be interactive: a shell, or a pager's
// !sh, escapes any list, and "interactive: true" with allowed_commands is
// an error. A force_command naming the gate needs allowed_commands (the
// gate refuses everything without patterns). A role without
// allowed_commands gets its force_command in certificates as is.
//
// approval is required and holds either auto: true (approved at once) or a
// non-empty require list, not both. Each requirement has exactly one of
// group: NAME (members of that group) or managers: true (managers of a team
// the requester is a member of), and count, the number of distinct people
// needed (default 1). A rule may not ask for the same approvers twice; raise
// the count instead. A count larger than the group can never be met.
//
// # resources
//
//	resources:
//	  - name: customer-db
//	    description: Contoso tenant database  # optional
//	    address: 10.0.0.7:22        # required, host:port
//	    tags: [storage, customer]
//	    host_key: "ssh-ed25519 AAAA..."       # optional pin; else the host CA is trusted
//	    pending_timeout: 12h        # optional: decide within 12h (Customer Lockbox)
//	    approval:                   # optional extra rule (Customer Lockbox)
//	      require:
//	        - {group: contoso-admins, count: 1}
//
// A resource's approval only adds approvers to the role's: it takes a
// non-empty require list and never auto, and may escalate (see
// Escalation). See Requirements.
//
// pending_timeout, a duration up to 168h, is how long a request naming the
// resource may wait for a decision: a request's deadline is the shortest of
// the CA's pending timeout (ca serve's pending_timeout, default 24h) and
// each of its resources' pending_timeout (see PendingTimeout). The request
// expires undecided after it, and the expiry says how long it waited
// ("nobody decided within 12h0m0s"). A resource whose own rule escalates
// must escalate before its pending_timeout, or the policy is refused.
//
// # bastions
//
//	bastions:
//	  - name: bastion-1
//	    keys: ["ssh-ed25519 AAAA..."]
//	    egress: [10.0.0.2, 10.0.1.0/28]
//
// Registered bastions may ask the CA for hop certificates. egress lists, as
// IP addresses or CIDRs without host bits, the addresses the bastion
// connects to targets from; they become source-address in hop certificates,
// so at least one is required.
//
// # notifications
//
//	notifications:
//	  endpoints:
//	    - name: mail
//	      kind: email                 # webhook, slack, teams or email
//	      smtp: {host: smtp.example.com, from: lockbox@example.com}
//	    - name: ops-slack
//	      kind: slack
//	      url_secret: env:LOCKBOX_OPS_SLACK_URL
//	  routes:
//	    - events: [request.pending, request.decided]
//	      roles: [admin]              # optional filters: roles, resources, tags
//	      to: people                  # the default; or channel
//	      endpoints: [mail, ops-slack]
//
// Optional, and merged across files; without it nothing is sent. An
// endpoint takes the settings of its kind and refuses the others (a
// webhook: url and secret; slack and teams: url_secret, since their URL is
// a credential; email: smtp with host, from and optionally port, security
// starttls (default) or none, ca_file, username with password,
// message_id_domain, timeout). secret, url_secret and smtp password are
// references, file:/PATH or env:NAME, never secrets; errors never repeat
// them. Parse checks their form only; the channels, built by package
// notify/route, resolve them. A route names known events
// (NotificationEvents), defined endpoints, roles, resources and tags; to:
// channel cannot go to an email endpoint, and message.dead takes no
// filters and no email. See docs/policy.md and docs/notifications.md.
//
// # Approvals
//
// The requester never approves their own request, and each person counts
// once in total even when they belong to several of the groups a request
// needs: see Outstanding. Needs names, for each requirement still
// outstanding, the people whose approval would fill it; Allows says what
// a role on resources gives, with marks for a root login, an interactive
// shell and customer data (a resource with its own approval rule).
//
// A request is checked against the policy when it is made (CheckRequest),
// and again, against the policy and the time as they are then, at every
// approval and at every certificate issued for the grant (Recheck): a
// membership or entry whose until: has passed, a reload that takes a user
// out of a team, removes a role or resource, lowers a role's
// max_duration below the request, or makes a role need a ticket stops the
// request or grant there, and the refusal says what no longer holds ("alice
// is no longer in a team eligible for reader on db-1", "role reader no
// longer exists", "2h0m0s is over role reader's max_duration of 1h0m0s
// (now)"). The approval that would start a grant also counts the user's
// active grants against max_active_grants_per_user, in the transaction that
// starts it (CheckActive). A grant approved ahead of a scheduled start
// counts from its approval, not from its start, so nobody lines up more
// grants than the limit.
//
// # Free text
//
// Justifications, decision reasons (approve, deny, revoke), tickets and
// descriptions follow one rule, CheckText: valid UTF-8 without control
// characters (C0, DEL, C1), invisible formatting characters (bidirectional
// overrides, embeddings, isolates and marks, zero-width spaces, tag
// characters; the zero-width joiner and non-joiner are allowed) and line or
// paragraph separators. Justifications and decision reasons hold at most
// 1000 characters, tickets 100 and no spaces.
//
// # Commands
//
// MatchCommand matches a command line against a role's allowed_commands. A
// pattern and a command are split into words like a POSIX shell would, but
// with no expansion at all (see SplitCommand). Each pattern word matches one
// command word, where '*' matches any run of characters, '/' included, and
// '?' one character; a final word "**" matches any number of further words.
//
//	"systemctl status *"   matches  systemctl status nginx
//	                       not      systemctl status nginx sshd
//	"cat /var/log/*"       matches  cat /var/log/nginx/access.log
//	                       matches  cat /var/log/../../etc/shadow  ('*' spans '/')
//	"journalctl -u * **"   matches  journalctl -u nginx sshd
//	                       not      journalctl -u nginx --since today
//
// Options match only where a pattern spells them out. A command word that
// starts with '-' or '+' (an option; '+' is a command to less, vim and
// more, and an option to tail, date and others) matches only a pattern
// word that starts with the same character: never '*', '?x' or a "**"
// tail. "-n", "--no-pager" and "--since=*" admit those options (the last
// with any value, in the same word); "-*" admits any option, and so is
// rarely what you mean.
//
// Because '*' crosses '/' and "..", write path patterns with care. Shell
// metacharacters have no meaning: the command gate runs the words directly,
// without a shell, so in "df -h; rm -rf /" the ';' and what follows are
// just more arguments (and do not match "df -h"). There is no way to escape
// '*' or '?' in a pattern; quoting does not make them literal.
//
// # Writing safe patterns
//
// A pattern admits exactly what its words say, so list each form of a
// command that a role needs, with the options that only read, and give
// option values in the same word (--since=*) or as a word of their own
// after the option ("-n *": a '*' word is never an option itself). Do not
// put '*' right after a short option ("-n*"): a word like "-nf" is both.
// Avoid '*' in paths where ".." could lead elsewhere.
//
// journalctl: its writing options (--vacuum-time, --vacuum-size,
// --vacuum-files, --rotate, --flush, --sync, --relinquish-var,
// --update-catalog, --setup-keys) match nothing below, and neither does
// -f; a role that adds "journalctl -u * -f" gets a command that runs until
// the session ends, when the gate ends it.
//
//	"journalctl -u *"
//	"journalctl -u * -n *"
//	"journalctl -u * --since=*"
//	"journalctl -u * --since=* --until=*"
//
// systemctl: status and is-active only read; "systemctl *" would admit
// stop, restart and mask. -H and -M (another host or machine) match
// nothing here.
//
//	"systemctl status *"
//	"systemctl --no-pager status *"
//	"systemctl is-active *"
//
// tail: name the files; a number after -n cannot be "-f" or "+1".
//
//	"tail -n * /var/log/syslog"
//	"tail -n * /var/log/nginx/*.log"   ('*' spans "..": /var/log/nginx/../../../etc/x.log)
//
// find: its actions that write or run things (-delete, -exec, -execdir,
// -ok, -fprint, -fls) start with '-', so a '*' value never becomes one.
//
//	"find /var/log -name *"
//	"find /var/log -name * -mtime *"
//
// less: without a terminal (roles with allowed_commands never get one) it
// only copies the file, as cat would; its '+' commands ("less +!sh") and
// options match nothing here.
//
//	"less /var/log/syslog"
//	"less -- /var/log/syslog"
package policy
