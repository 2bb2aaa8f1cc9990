package policy

// Outstanding returns the requirements of reqs not yet met by approvers,
// with the counts still missing, in the order of reqs. An empty result means
// the request is fully approved.
//
// Each person counts once in total: someone who is both a manager and in the
// security group fills one slot, not two. Approvals are therefore assigned
// to requirement slots by a maximum bipartite matching, so that the answer
// does not depend on the order of approvers. The requester, repeated names,
// and approvers no longer in the policy count for nothing.
func (p *Policy) Outstanding(requester string, reqs []Requirement, approvers []string) []Requirement {
	m, _ := p.assign(requester, reqs, approvers)
	var out []Requirement
	for i, r := range reqs {
		if left := r.Count - len(m.slots[i]); left > 0 {
			r.Count = left
			out = append(out, r)
		}
	}
	return out
}

// assign places approvers in the slots of reqs (a maximum matching) and
// returns the matching and the approvers that count as having approved:
// the requester, repeated names and names no longer in the policy are
// left out.
func (p *Policy) assign(requester string, reqs []Requirement, approvers []string) (*matching, map[string]bool) {
	managers := p.ManagersOf(requester)
	m := &matching{
		slots: make([][]string, len(reqs)),
		can: func(person string, i int) bool {
			return p.fills(person, reqs[i], managers)
		},
		capacity: func(i int) int { return reqs[i].Count },
	}
	seen := map[string]bool{}
	for _, a := range approvers {
		if a == requester || seen[a] || p.Users[a] == nil {
			continue
		}
		seen[a] = true
		m.add(a)
	}
	return m, seen
}

// matching assigns people to requirements, each requirement i holding up to
// capacity(i) people, each person in at most one requirement.
type matching struct {
	slots    [][]string // people assigned to each requirement
	can      func(person string, i int) bool
	capacity func(i int) int
}

// add tries to place person, moving others along an augmenting path if
// needed (Kuhn's algorithm, with capacities). A person who cannot be placed
// is left out: every slot they could fill is taken by someone who has no
// other place.
func (m *matching) add(person string) {
	m.augment(person, make([]bool, len(m.slots)))
}

func (m *matching) augment(person string, visited []bool) bool {
	for i := range m.slots {
		if visited[i] || !m.can(person, i) {
			continue
		}
		visited[i] = true
		if len(m.slots[i]) < m.capacity(i) {
			m.slots[i] = append(m.slots[i], person)
			return true
		}
		for j, other := range m.slots[i] {
			if m.augment(other, visited) {
				m.slots[i][j] = person
				return true
			}
		}
	}
	return false
}

// reachable marks the requirements person could end up in: those they
// fill, and, through each full one, those its holders could move on to.
// Since the matching is maximum, a marked requirement with a free slot is
// one that person's approval would fill (there is an augmenting path
// ending there).
func (m *matching) reachable(person string) []bool {
	visited := make([]bool, len(m.slots))
	var walk func(string)
	walk = func(who string) {
		for i := range m.slots {
			if visited[i] || !m.can(who, i) {
				continue
			}
			visited[i] = true
			for _, other := range m.slots[i] {
				walk(other)
			}
		}
	}
	walk(person)
	return visited
}
