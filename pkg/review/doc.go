// Package review computes access reviews: for each team membership, what
// it lets the person request, when they last requested and used each of
// it, what went unused for a period, and the reviewers' standing keep or
// remove decisions; and it turns the removals into a patch of the policy
// files for the operator to apply through their own change process.
//
// It is pure: Build, CheckDecision and Export take the policy, the usage
// and decisions the workflow read from the store, and the time, and do no
// I/O. A review entry is one membership (a user in a team's members),
// because that is what the policy can take away from one person alone:
// removing it removes every role the team's eligibility gives them.
// Usage is counted per role and resource; a request or session is
// counted for every membership that could have given it.
package review
