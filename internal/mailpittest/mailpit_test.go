package mailpittest

import (
	"os"
	"strings"
	"testing"
)

// The version the tests look for is the one scripts/test.sh installs.
func TestScriptInstallsTheVersionTheTestsLookFor(t *testing.T) {
	script, err := os.ReadFile("../../scripts/test.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "mailpit_version="+Version+"\n") {
		t.Fatalf("scripts/test.sh does not install Mailpit %s", Version)
	}
}

func TestStartedMailpitAcceptsSMTPAndAnswersItsAPI(t *testing.T) {
	s := Start(t, Options{})
	if got := s.Messages(t); len(got) != 0 {
		t.Fatalf("a new Mailpit holds %d messages", len(got))
	}
	if s.SMTPort == 0 || !strings.HasPrefix(s.API, "http://127.0.0.1:") {
		t.Fatalf("Server = %+v", s)
	}
}
