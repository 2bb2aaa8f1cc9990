// Package render turns a notify.Message into what each channel sends: the
// generic webhook's JSON (a versioned schema), a Slack incoming-webhook
// message (Block Kit with a text fallback), a Microsoft Teams Workflows
// message (an Adaptive Card in an attachment), and an email (plain text
// and HTML). Rendering is pure: values in, bytes out.
//
// Every text that a person wrote or that comes from the store
// (justifications, reasons, names, descriptions) renders inert: control
// characters and bidirectional overrides are shown escaped, as the CLI
// and the web pages show them (package inert); the HTML email escapes
// through html/template; Slack text goes into plain_text objects with &,
// < and > escaped, so neither mrkdwn, <!channel> nor <url|text> links
// act; Teams text goes into TextRun elements, which render no Markdown.
// The webhook JSON carries the text as it is, for machines.
//
// The package sits above the leaves notify and inert, so there is one
// escaping of control characters for terminals, pages and notifications.
package render
