package wire

// Health is the body of GET /healthz: Status "ok" or "unavailable", and
// what the database did when asked.
type Health struct {
	Status   string `json:"status"`
	Database string `json:"database"`
}
