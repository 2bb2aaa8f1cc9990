package notify

import (
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	mail "github.com/wneessen/go-mail"
)

// compose builds the MIME message: multipart/alternative with the text
// part first and the HTML part second, as clients prefer the last part
// they can show.
func (s *SMTP) compose(e Email) (*mail.Msg, error) {
	if !ValidKey(e.Key) {
		return nil, errors.New("email without a valid idempotency key")
	}
	if len(e.To) == 0 {
		return nil, errors.New("email without recipients")
	}
	for _, to := range e.To {
		if err := checkAddress(to); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		return nil, errors.New("subject with a line break")
	}
	m := mail.NewMsg()
	if err := m.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.To(e.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	m.Subject(e.Subject)
	m.SetMessageIDWithValue(e.Key + "@" + s.cfg.MessageIDDomain)
	m.SetGenHeader(mail.Header(IdempotencyHeader), e.Key)
	if e.Kind != "" {
		m.SetGenHeader(mail.Header(EventHeader), string(e.Kind))
	}
	// RFC 3834: machine-written, so auto-responders stay quiet.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetUserAgent(UserAgent)
	if e.Date.IsZero() {
		m.SetDate()
	} else {
		m.SetDateWithValue(e.Date)
	}
	m.SetBodyString(mail.TypeTextPlain, e.Text)
	m.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	return m, nil
}

// smtpFailure classifies an error of go-mail by the server's reply code.
func smtpFailure(err error) *Failure {
	if se, ok := errors.AsType[*mail.SendError](err); ok {
		switch {
		case se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp():
			return permanent(ErrRecipientRejected, "%v", err)
		case se.ErrorCode() >= 500:
			return permanent(ErrRefused, "%v", err)
		case se.ErrorCode() >= 400:
			return retryable(ErrUnavailable, "%v", err)
		}
		return retryable(ErrNetwork, "%v", err)
	}
	if isCertificateError(err) {
		return permanent(ErrCertificate, "%v", err)
	}
	// go-mail says so only in words.
	if strings.Contains(err.Error(), "does not support STARTTLS") {
		return permanent(ErrNoStartTLS, "%v", err)
	}
	if te, ok := errors.AsType[*textproto.Error](err); ok {
		if te.Code >= 500 {
			return permanent(ErrRefused, "server answered %s", strconv.Itoa(te.Code)+" "+te.Msg)
		}
		return retryable(ErrUnavailable, "server answered %s", strconv.Itoa(te.Code)+" "+te.Msg)
	}
	return retryable(ErrNetwork, "%v", err)
}
