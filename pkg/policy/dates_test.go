package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// datedTeams gives dave a dated membership (reader on db-1 through
// November 2026) and a dated entry (health on db-2 on 30 November, from
// 07:00 to 18:00 UTC), beside his undated web team.
const datedTeams = `teams:
  - name: db-temp
    members:
      - {name: dave, from: 2026-11-01, until: 2026-11-30}
    managers: [carol]
    eligible:
      - roles: [reader]
        resources: [db-1]
  - name: db-window
    members: [dave]
    managers: [carol]
    eligible:
      - roles: [health]
        resources: [db-2]
        from: "2026-11-30T09:00:00+02:00"
        until: 2026-11-30T18:00:00Z
`

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A dated membership or eligibility entry holds from its start (a date is
// the day's first instant) up to its end (a date is inclusive: the whole
// day; a time is the first instant no longer in effect), and a request
// outside it is refused with the date, at submission and at every recheck.
func TestDatedEligibilityHoldsInsideItsDatesOnly(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-dated.yaml": datedTeams})
	reader := Request{User: "dave", Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "disk alert"}
	health := Request{User: "dave", Role: "health", Resources: []string{"db-2"}, Duration: time.Hour, Reason: "disk alert"}
	tests := []struct {
		name string
		req  Request
		now  string
		want error
		says string
	}{
		{"just before a membership's from date", reader, "2026-10-31T23:59:59.999Z", ErrEligibilityNotYet, "dave's eligibility for reader on db-1 starts on 2026-11-01"},
		{"at a membership's from date", reader, "2026-11-01T00:00:00Z", nil, ""},
		{"on the last day of a membership's until date", reader, "2026-11-30T23:59:59.999Z", nil, ""},
		{"the instant after a membership's until date", reader, "2026-12-01T00:00:00Z", ErrEligibilityEnded, "dave's eligibility for reader on db-1 ended on 2026-11-30"},
		{"long after a membership's until date", reader, "2027-06-01T00:00:00Z", ErrEligibilityEnded, "ended on 2026-11-30"},
		{"just before an entry's from time (given with an offset)", health, "2026-11-30T06:59:59Z", ErrEligibilityNotYet, "starts at 2026-11-30T09:00:00+02:00"},
		{"at an entry's from time", health, "2026-11-30T07:00:00Z", nil, ""},
		{"just before an entry's until time", health, "2026-11-30T17:59:59.999Z", nil, ""},
		{"at an entry's until time", health, "2026-11-30T18:00:00Z", ErrEligibilityEnded, "dave's eligibility for health on db-2 ended at 2026-11-30T18:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := at(tc.now)
			for name, err := range map[string]error{
				"CheckRequest": p.CheckRequest(tc.req, Counts{}, now),
				"Recheck":      p.Recheck(tc.req, now),
			} {
				if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Fatalf("%s = %v, want %v", name, err, tc.want)
				}
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrOutOfScope) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("%s = %q, want ErrOutOfScope saying %q", name, err, tc.says)
				}
			}
			eligible := slices.Contains(p.EligibleResources(tc.req.User, tc.req.Role, now), tc.req.Resources[0])
			if eligible != (tc.want == nil) {
				t.Fatalf("EligibleResources at %s: eligible = %v, want %v", tc.now, eligible, tc.want == nil)
			}
		})
	}
}

// An undated way to the same role and resource keeps the request
// eligible when a dated one has ended; an ended dated way is named only
// when nothing else is left.
func TestUndatedEligibilityOutlivesADatedOne(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-dated.yaml": `teams:
  - name: db-temp
    members:
      - {name: alice, until: 2026-11-30}
    eligible:
      - roles: [reader]
        resources: [web-1]
`})
	after := at("2026-12-05T00:00:00Z")
	db := Request{User: "alice", Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"}
	if err := p.CheckRequest(db, Counts{}, after); err != nil {
		t.Fatalf("alice's undated storage membership: CheckRequest = %v, want nil", err)
	}
	web := db
	web.Resources = []string{"web-1"}
	if err := p.CheckRequest(web, Counts{}, after); !errors.Is(err, ErrEligibilityEnded) {
		t.Fatalf("alice's ended membership is her only way to web-1: CheckRequest = %v, want ErrEligibilityEnded", err)
	}
	// Outside every team the reason is the plain one.
	if err := p.CheckRequest(Request{User: "grace", Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "x"}, Counts{}, after); !errors.Is(err, ErrOutOfScope) || errors.Is(err, ErrEligibilityEnded) {
		t.Fatalf("grace in no team: CheckRequest = %v, want ErrOutOfScope alone", err)
	}
}

// Dates are parsed strictly, with the line of the bad value.
func TestDatesAreParsedStrictly(t *testing.T) {
	tests := []struct{ name, teams, says string }{
		{"a date that is not a date", `{name: alice, until: 2026-13-01}`, `zz.yaml:5: team t: members alice: until: "2026-13-01" is neither a date`},
		{"a time without its offset", `{name: alice, until: "2026-11-30T18:00:00"}`, `zz.yaml:5: team t: members alice: until: "2026-11-30T18:00:00" is neither a date`},
		{"until before from", `{name: alice, from: 2026-12-01, until: 2026-11-30}`, "zz.yaml:5: team t: members alice: until 2026-11-30 is not after from 2026-12-01"},
		{"from and until on the same day", `{name: alice, from: 2026-11-30, until: 2026-11-30}`, ""},
		{"a year out of range", `{name: alice, until: 0206-11-30}`, "outside the years 2000 to 2199"},
		{"a dated member without dates", `{name: alice}`, `member "alice": give from:, until: or both`},
		{"a dated member without a name", `{until: 2026-11-30}`, "a dated member needs its name"},
		{"an unknown field", `{name: alice, till: 2026-11-30}`, `unknown field "till"`},
		{"an unknown user", `{name: zoe, until: 2026-11-30}`, `unknown user "zoe"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := exampleFiles(t)
			files["zz.yaml"] = []byte("teams:\n  - name: t\n    eligible: [{roles: [reader], resources: [db-1]}]\n    members:\n      - " + tc.teams + "\n")
			_, err := Parse(files)
			if tc.says == "" {
				if err != nil {
					t.Fatalf("Parse = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Parse = %v, want an error saying %q", err, tc.says)
			}
		})
	}
	t.Run("an entry's until before its from", func(t *testing.T) {
		files := exampleFiles(t)
		files["zz.yaml"] = []byte("teams:\n  - name: t\n    members: [alice]\n    eligible:\n      - {roles: [reader], resources: [db-1], from: 2026-12-01, until: 2026-11-01}\n")
		if _, err := Parse(files); err == nil || !strings.Contains(err.Error(), "zz.yaml:5: team t: eligible: until 2026-11-01 is not after from 2026-12-01") {
			t.Fatalf("Parse = %v, want the entry's dates refused at line 5", err)
		}
	})
	t.Run("a member listed twice, once dated", func(t *testing.T) {
		files := exampleFiles(t)
		files["zz.yaml"] = []byte("teams:\n  - name: t\n    members:\n      - alice\n      - {name: alice, until: 2026-11-30}\n")
		if _, err := Parse(files); err == nil || !strings.Contains(err.Error(), `zz.yaml:5: team t: members: "alice" listed twice`) {
			t.Fatalf("Parse = %v, want alice refused as listed twice", err)
		}
	})
}

// Endings lists what is in effect and ends within the lead time, soonest
// first: at the lead's edge, not a moment before; not once ended.
func TestEndingsListWhatEndsWithinTheLeadTime(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-dated.yaml": datedTeams})
	const lead = 24 * time.Hour
	for _, tc := range []struct {
		now  string
		want []string // team/member of each ending
	}{
		{"2026-11-29T17:59:59Z", nil},                                    // the entry ends 24h and 1s later
		{"2026-11-29T18:00:00Z", nil},                                    // the entry has not started: not in effect
		{"2026-11-30T07:00:00Z", []string{"db-window/", "db-temp/dave"}}, // both, the entry first
		{"2026-11-30T00:00:00Z", []string{"db-temp/dave"}},               // the membership ends in exactly 24h
		{"2026-11-29T23:59:59.999Z", nil},                                // a moment before
		{"2026-11-30T18:00:00Z", []string{"db-temp/dave"}},               // the entry has ended
		{"2026-12-01T00:00:00Z", nil},                                    // both have ended
	} {
		var got []string
		for _, e := range p.Endings(at(tc.now), lead) {
			got = append(got, e.Team+"/"+e.Member)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Endings at %s = %v, want %v", tc.now, got, tc.want)
		}
	}
	es := p.Endings(at("2026-11-30T07:00:00Z"), lead)
	entry, member := es[0], es[1]
	if !slices.Equal(entry.People, []string{"dave"}) || !slices.Equal(entry.Managers, []string{"carol"}) ||
		!slices.Equal(entry.Roles, []string{"health"}) || !slices.Equal(entry.Resources, []string{"db-2"}) {
		t.Errorf("the entry's ending = %+v", entry)
	}
	if !slices.Equal(member.Roles, []string{"reader"}) || member.Dates.EndsText() != "on 2026-11-30" {
		t.Errorf("the membership's ending = %+v", member)
	}
	if entry.Key() == member.Key() || len(entry.Key()) != 64 {
		t.Errorf("keys %q and %q: want two distinct hex SHA-256", entry.Key(), member.Key())
	}
}
