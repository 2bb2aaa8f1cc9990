package penalty_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/penalty"
)

// clock is a settable clock for a Table.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func newTable(t *testing.T, cfg penalty.Config) (*penalty.Table, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	cfg.Clock = c.Now
	tb, err := penalty.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tb, c
}

var attacker = netip.MustParseAddr("192.0.2.7")

// refuse counts n refusals of addr and returns the last verdict.
func refuse(tb *penalty.Table, addr netip.Addr, n int) penalty.Verdict {
	var v penalty.Verdict
	for range n {
		v = tb.Refused(addr)
	}
	return v
}

func TestSourceOverItsBudgetIsPenalisedOnce(t *testing.T) {
	tb, _ := newTable(t, penalty.Config{Budget: 3})
	if v := refuse(tb, attacker, 3); v.Penalised || v.Started {
		t.Fatalf("3 refusals of a budget of 3: %+v, want not penalised", v)
	}
	if tb.Penalised(attacker) {
		t.Fatal("a source within its budget is penalised at accept")
	}
	if v := tb.Refused(attacker); !v.Penalised || !v.Started || v.Source != netip.MustParsePrefix("192.0.2.7/32") {
		t.Fatalf("the 4th refusal: %+v, want the penalty of 192.0.2.7/32 started", v)
	}
	if v := tb.Refused(attacker); !v.Penalised || v.Started {
		t.Fatalf("the 5th refusal: %+v, want penalised, not started again", v)
	}
	if !tb.Penalised(attacker) {
		t.Fatal("a penalised source's connections are not refused")
	}
	if other := netip.MustParseAddr("192.0.2.8"); tb.Penalised(other) {
		t.Fatal("the next address is penalised with its neighbour")
	}
}

// InForce is false until a penalty starts, true while it lasts, and
// false again once it has ended: it is what the API's listener asks
// before it accepts connections by hand.
func TestInForceWhileAPenaltyLasts(t *testing.T) {
	tb, c := newTable(t, penalty.Config{Budget: 1, Duration: 30 * time.Second})
	if refuse(tb, attacker, 1); tb.InForce() {
		t.Fatal("in force before any penalty")
	}
	tb.Refused(attacker)
	if !tb.InForce() {
		t.Fatal("not in force once a penalty started")
	}
	c.advance(30*time.Second - time.Nanosecond)
	if !tb.InForce() {
		t.Fatal("not in force before the penalty's 30s")
	}
	c.advance(time.Nanosecond)
	if tb.InForce() {
		t.Fatal("still in force once the penalty ended")
	}
}

func TestPenaltyEndsAfterItsDuration(t *testing.T) {
	tb, c := newTable(t, penalty.Config{Budget: 1, Duration: 30 * time.Second})
	refuse(tb, attacker, 2)
	c.advance(30*time.Second - time.Nanosecond)
	if !tb.Penalised(attacker) {
		t.Fatal("penalty over before its 30s")
	}
	c.advance(time.Nanosecond)
	if tb.Penalised(attacker) {
		t.Fatal("penalty still in force at its 30s")
	}
	// A fresh budget after the penalty, and a new penalty past it.
	if v := tb.Refused(attacker); v.Penalised {
		t.Fatalf("first refusal after the penalty: %+v, want within a fresh budget", v)
	}
	if v := tb.Refused(attacker); !v.Started {
		t.Fatalf("over the budget again: %+v, want a new penalty", v)
	}
}

func TestBudgetIsPerInterval(t *testing.T) {
	tb, c := newTable(t, penalty.Config{Budget: 2, Interval: time.Minute})
	refuse(tb, attacker, 2)
	c.advance(time.Minute)
	if v := refuse(tb, attacker, 2); v.Penalised {
		t.Fatalf("2 refusals in each of two minutes, budget 2: %+v, want not penalised", v)
	}
}

func TestExemptSourceIsNeverPenalised(t *testing.T) {
	tb, _ := newTable(t, penalty.Config{Budget: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}})
	for _, a := range []string{"192.0.2.7", "::ffff:192.0.2.9", "2001:db8:1::5"} {
		addr := netip.MustParseAddr(a)
		if v := refuse(tb, addr, 100); v.Penalised || v.Started || tb.Penalised(addr) {
			t.Errorf("exempt %s after 100 refusals: %+v, penalised at accept %v", a, v, tb.Penalised(addr))
		}
	}
	if tb.Len() != 0 {
		t.Errorf("exempt sources took %d places in the table", tb.Len())
	}
}

func TestIPv6SourcesArePenalisedByTheir64(t *testing.T) {
	tb, _ := newTable(t, penalty.Config{Budget: 2})
	// Three addresses of one /64: one source.
	for _, a := range []string{"2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3"} {
		tb.Refused(netip.MustParseAddr(a))
	}
	if !tb.Penalised(netip.MustParseAddr("2001:db8:0:1::99")) {
		t.Fatal("another address of the penalised /64 is let in")
	}
	if tb.Penalised(netip.MustParseAddr("2001:db8:0:2::1")) {
		t.Fatal("the next /64 is penalised")
	}
	// IPv4-mapped addresses count as IPv4.
	tb.Refused(netip.MustParseAddr("::ffff:192.0.2.1"))
	tb.Refused(netip.MustParseAddr("192.0.2.1"))
	if v := tb.Refused(netip.MustParseAddr("::ffff:192.0.2.1")); !v.Started || v.Source != netip.MustParsePrefix("192.0.2.1/32") {
		t.Fatalf("third refusal of 192.0.2.1, mapped or not: %+v", v)
	}
}

// The table holds at most MaxSources; a full one does not count a new
// source (permissive, the default) but keeps the penalties it has.
func TestFullTableIsPermissiveByDefault(t *testing.T) {
	tb, c := newTable(t, penalty.Config{Budget: 1, MaxSources: 16})
	refuse(tb, attacker, 2) // penalised
	for i := range 1000 {
		tb.Refused(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if tb.Len() != 16 {
		t.Fatalf("table holds %d sources, want its bound 16", tb.Len())
	}
	late := netip.MustParseAddr("198.51.100.1")
	if v := refuse(tb, late, 5); v.Penalised || !v.Full {
		t.Fatalf("a source the full table cannot count: %+v, want not penalised, full", v)
	}
	if tb.Penalised(late) {
		t.Fatal("permissive: a source not counted is refused at accept")
	}
	if !tb.Penalised(attacker) {
		t.Fatal("the penalty held before the table filled was dropped")
	}
	// Once their interval is over, counted sources make room.
	c.advance(time.Minute)
	if v := refuse(tb, late, 2); !v.Started || v.Full {
		t.Fatalf("after the interval, over its budget: %+v, want a penalty", v)
	}
	if tb.Len() > 16 {
		t.Fatalf("table holds %d sources, over its bound 16", tb.Len())
	}
}

func TestFullTableDeniesAllWhenSoConfigured(t *testing.T) {
	exempt := netip.MustParseAddr("203.0.113.5")
	tb, c := newTable(t, penalty.Config{Budget: 1, MaxSources: 4, Overflow: penalty.DenyAll, Duration: 10 * time.Second,
		Exempt: []netip.Prefix{netip.MustParsePrefix("203.0.113.5/32")}})
	for i := range 4 {
		tb.Refused(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	v := tb.Refused(netip.MustParseAddr("198.51.100.1"))
	if !v.Penalised || !v.Started || !v.Full {
		t.Fatalf("deny-all, full table: %+v, want every source penalised, started", v)
	}
	if v := tb.Refused(netip.MustParseAddr("198.51.100.2")); !v.Penalised || v.Started {
		t.Fatalf("deny-all in force: %+v, want penalised, not started again", v)
	}
	for _, a := range []string{"10.0.0.1", "198.51.100.9", "2001:db8::1"} {
		if !tb.Penalised(netip.MustParseAddr(a)) {
			t.Errorf("deny-all in force: %s let in", a)
		}
	}
	if tb.Penalised(exempt) {
		t.Error("deny-all refuses an exempt source")
	}
	c.advance(10 * time.Second)
	if tb.Penalised(netip.MustParseAddr("198.51.100.9")) {
		t.Error("deny-all still in force after its duration")
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for name, cfg := range map[string]penalty.Config{
		"negative budget": {Budget: -1},
		"IPv4 /33":        {IPv4Prefix: 33},
		"IPv6 /129":       {IPv6Prefix: 129},
		"overflow 7":      {Overflow: 7},
		"invalid exempt":  {Exempt: []netip.Prefix{{}}},
	} {
		if _, err := penalty.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	for _, s := range []string{"", "deny", "Permissive"} {
		if _, err := penalty.ParseOverflow(s); err == nil {
			t.Errorf("ParseOverflow(%q) accepted it", s)
		}
	}
}

// A connection under no penalty costs an atomic load (the allocation-free
// fast path that every connection of a CA under no flood takes).
func TestPenalisedAllocatesNothing(t *testing.T) {
	tb, _ := newTable(t, penalty.Config{Budget: 1})
	refuse(tb, attacker, 2)
	addr := netip.MustParseAddr("192.0.2.200")
	if n := testing.AllocsPerRun(100, func() { tb.Penalised(addr) }); n != 0 {
		t.Errorf("Penalised allocates %v times", n)
	}
}

func ExampleTable() {
	tb, _ := penalty.New(penalty.Config{Budget: 2})
	src := netip.MustParseAddr("192.0.2.7")
	for i := range 4 {
		v := tb.Refused(src)
		fmt.Println(i+1, v.Penalised, v.Started)
	}
	fmt.Println(tb.Penalised(src))
	// Output:
	// 1 false false
	// 2 false false
	// 3 true true
	// 4 true false
	// true
}

// ExemptFunc is asked at each refusal and each check at accept, so that
// a source it starts exempting (a bastion added by a policy reload) is
// let in at once, even while penalised, and one it stops exempting is
// counted from then on.
func TestExemptFuncIsAskedEachTime(t *testing.T) {
	var exempt bool
	var asked []netip.Addr
	tb, _ := newTable(t, penalty.Config{Budget: 2, ExemptFunc: func(a netip.Addr) bool {
		asked = append(asked, a)
		return exempt
	}})
	if v := refuse(tb, attacker, 3); !v.Penalised || !tb.Penalised(attacker) {
		t.Fatalf("3 refusals of a budget of 2, not exempt: %+v, penalised at accept %v; want penalised", v, tb.Penalised(attacker))
	}
	exempt = true
	if tb.Penalised(attacker) {
		t.Fatal("a penalised source ExemptFunc now exempts is still refused at accept")
	}
	if v := refuse(tb, attacker, 10); v.Penalised || v.Started {
		t.Fatalf("refusals of a source ExemptFunc exempts: %+v, want not counted", v)
	}
	exempt = false
	if !tb.Penalised(attacker) {
		t.Fatal("a source ExemptFunc no longer exempts is not refused during its penalty")
	}
	mapped := netip.MustParseAddr("::ffff:192.0.2.7")
	asked = nil
	tb.Penalised(mapped)
	if len(asked) != 1 || asked[0] != attacker {
		t.Errorf("ExemptFunc asked about %v for %v, want once about %v", asked, mapped, attacker)
	}
}

// The static list is asked first: ExemptFunc is not called for the
// addresses it holds.
func TestExemptListNeedsNoExemptFunc(t *testing.T) {
	calls := 0
	tb, _ := newTable(t, penalty.Config{Budget: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		ExemptFunc: func(netip.Addr) bool { calls++; return false }})
	if v := refuse(tb, attacker, 5); v.Penalised || calls != 0 {
		t.Fatalf("a listed source: %+v after 5 refusals, ExemptFunc called %d times; want not penalised, not called", v, calls)
	}
	other := netip.MustParseAddr("198.51.100.1")
	if v := refuse(tb, other, 2); !v.Penalised || calls != 2 {
		t.Fatalf("an unlisted source: %+v after 2 refusals of a budget of 1, ExemptFunc called %d times; want penalised, called twice", v, calls)
	}
}
