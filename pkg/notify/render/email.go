package render

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

//go:embed templates/email.html
var templates embed.FS

// emailHTML escapes every value through html/template; values are also
// clean, so control characters and bidi overrides show escaped.
var emailHTML = template.Must(template.ParseFS(templates, "templates/email.html"))

// Email renders m as an email to the addresses of its recipients: a
// subject that says what happened, a plain-text part and an HTML part
// with the same content. The caller may change To.
func Email(m *notify.Message) (notify.Email, error) {
	v, err := build(m)
	if err != nil {
		return notify.Email{}, err
	}
	var html bytes.Buffer
	if err := emailHTML.Execute(&html, v); err != nil {
		return notify.Email{}, fmt.Errorf("rendering the email: %w", err)
	}
	e := notify.Email{
		Subject: truncate(v.Subject, 250),
		Text:    emailText(v),
		HTML:    html.String(),
		Key:     m.Key,
		Kind:    m.Kind,
		Date:    m.Time,
	}
	for _, r := range m.To {
		if r.Email != "" {
			e.To = append(e.To, r.Email)
		}
	}
	return e, nil
}

// emailText lays the view out as plain text, labels in a column.
func emailText(v view) string {
	var b strings.Builder
	b.WriteString(v.Headline + "\n\n" + v.Summary + "\n")
	if len(v.Marks) > 0 {
		b.WriteString("\n" + strings.Join(v.Marks, "\n") + "\n")
	}
	width := 0
	for _, f := range v.Facts {
		width = max(width, len(f.Label)+1)
	}
	b.WriteString("\n")
	for _, f := range v.Facts {
		for i, line := range f.Lines {
			label := ""
			if i == 0 {
				label = f.Label + ":"
			}
			fmt.Fprintf(&b, "%-*s  %s\n", width, label, line)
		}
	}
	if v.Link != "" {
		b.WriteString("\nOpen in Lockbox: " + v.Link + "\n")
	}
	b.WriteString("\n-- \nSent by Lockbox. Reference: " + v.Key + "\n")
	return b.String()
}
