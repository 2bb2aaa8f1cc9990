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
// roles, resources and bastions. Lists from all files are merged: a team may
// name users defined in another file. Empty files are fine. Anchors may be
// used but aliases may not.
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
//
// Durations are Go durations (30m, 2h, 1h30m), positive and at most 168h.
// Members of the auditors groups may read the audit log, list and replay
// sessions and revoke grants (see IsAuditor); with none, nobody may.
//
// # users and groups
//
//	users:
//	  - name: alice
//	    keys: ["ssh-ed25519 AAAA... alice@laptop"]
//	    groups: [security]
//	groups:
//	  - name: security
//	    description: Security on-call
//
// keys holds at least one public key, each an authorized_keys line without
// options. Certificates, DSA keys and RSA keys under 2048 bits are refused.
// A key may belong to only one user or bastion. Keys identify their owner to
// the CA; they open no host. groups must name defined groups; a group's
// members are the users that list it.
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
//	    approval:
//	      require:
//	        - {managers: true, count: 1}
//	        - {group: security}
//
// login is a POSIX account name: 1 to 32 characters from a-z, 0-9, '_' and
// '-', not starting with a digit or '-'. allowed_commands are MatchCommand
// patterns; empty allows any command. They are enforced by the bastion and
// by the command gate that force_command points at; an interactive shell
// escapes them, so roles with allowed_commands should not be interactive.
// force_command is placed in certificates as is.
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
//	    approval:                   # optional extra rule (Customer Lockbox)
//	      require:
//	        - {group: contoso-admins, count: 1}
//
// A resource's approval only adds approvers to the role's: it takes a
// non-empty require list and never auto. See Requirements.
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
// and again, against the policy as it is then, at every approval and at
// every certificate issued for the grant (Recheck): a reload that takes a
// user out of a team, removes a role or resource, lowers a role's
// max_duration below the request, or makes a role need a ticket stops the
// request or grant there, and the refusal says what no longer holds ("alice
// is no longer in a team eligible for reader on db-1", "role reader no
// longer exists", "2h0m0s is over role reader's max_duration of 1h0m0s
// (now)"). The approval that would start a grant also counts the user's
// active grants against max_active_grants_per_user, in the transaction that
// starts it (CheckActive).
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
//	"journalctl -u * **"   matches  journalctl -u nginx --since today
//
// Because '*' crosses '/' and "..", write path patterns with care. Shell
// metacharacters have no meaning: the command gate runs the words directly,
// without a shell, so in "df -h; rm -rf /" the ';' and what follows are
// just more arguments (and do not match "df -h"). There is no way to escape
// '*' or '?' in a pattern; quoting does not make them literal.
package policy
