package render

import (
	"encoding/json"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// Slack's limits (Block Kit reference): a header's text 150 characters,
// a section's text 3000, a field 2000, ten fields in a section, a
// button's text 75, fifty blocks in a message. Lengths here are bytes,
// which are never fewer than characters.
const (
	slackHeaderMax  = 150
	slackTextMax    = 3000
	slackFieldMax   = 2000
	slackFieldsMax  = 10
	slackFallback   = 3000
	slackButtonText = "Open in Lockbox"
)

type slackMessage struct {
	Text        string       `json:"text"`
	Mrkdwn      bool         `json:"mrkdwn"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
	Blocks      []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

// slackElement is a context element (a text object) or an action
// element (a button).
type slackElement struct {
	Type     string `json:"type"`
	Text     any    `json:"text"` // a string in context, a text object in a button
	URL      string `json:"url,omitempty"`
	ActionID string `json:"action_id,omitempty"`
	Style    string `json:"style,omitempty"`
}

// slackText is always plain_text: Slack renders no mrkdwn in it.
type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func plain(s string, n int) slackText { return slackText{Type: "plain_text", Text: slackEscape(s, n)} }

// Slack renders m as a Slack incoming-webhook message: a header, the
// summary, the marks, the facts as fields, and a button to the request's
// page, with a text fallback for notifications and screen readers. All
// text is plain_text with &, < and > escaped, and the fallback has mrkdwn
// off, so no text from a user can mention a channel, make a link, or
// format anything.
func Slack(m *notify.Message) ([]byte, error) {
	v, err := build(m)
	if err != nil {
		return nil, err
	}
	header := plain(v.Headline, slackHeaderMax)
	summary := plain(v.Summary, slackTextMax)
	msg := slackMessage{
		Text:   slackEscape(v.Headline+": "+v.Summary, slackFallback),
		Blocks: []slackBlock{{Type: "header", Text: &header}, {Type: "section", Text: &summary}},
	}
	if len(v.Marks) > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackElement{{
			Type: "plain_text", Text: slackEscape(strings.Join(v.Marks, "   "), slackFieldMax),
		}}})
	}
	var fields []slackText
	for _, f := range v.Facts {
		fields = append(fields, plain(f.Label+": "+f.Value(), slackFieldMax))
		if len(fields) == slackFieldsMax {
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Fields: fields})
			fields = nil
		}
	}
	if len(fields) > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Fields: fields})
	}
	if v.Link != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "actions", Elements: []slackElement{{
			Type: "button", Text: slackText{Type: "plain_text", Text: slackButtonText}, URL: v.Link,
			ActionID: "open", Style: "primary",
		}}})
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackElement{{
		Type: "plain_text", Text: "Reference: " + v.Key,
	}}})
	return json.Marshal(msg)
}

// slackEscape escapes &, < and >, the characters Slack parses in every
// text object, and cuts the result to at most n bytes without splitting
// an entity or a character.
func slackEscape(s string, n int) string {
	escaped := slackEscaper.Replace(s)
	if len(escaped) <= n {
		return escaped
	}
	const ellipsis = "…"
	var b strings.Builder
	for _, r := range s {
		piece := slackEscaper.Replace(string(r))
		if b.Len()+len(piece) > n-len(ellipsis) {
			break
		}
		b.WriteString(piece)
	}
	return b.String() + ellipsis
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
