package scim

import (
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
	"strconv"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Schema URNs.
const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	listSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	spcSchema   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// userIn is a User body: only what Lockbox keeps. Pointers tell an
// attribute left out from one given empty.
type userIn struct {
	Schemas     []string `json:"schemas"`
	ID          *string  `json:"id"`
	ExternalID  *string  `json:"externalId"`
	UserName    *string  `json:"userName"`
	DisplayName *string  `json:"displayName"`
	Active      *bool    `json:"active"`
}

var userAttributes = []string{"schemas", "id", "externalId", "userName", "displayName", "active"}

type memberRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
}

var memberAttributes = []string{"value", "display", "$ref", "type"}

// groupIn is a Group body. Members are decoded one by one
// (decodeMembers), each as strictly as a body.
type groupIn struct {
	Schemas     []string          `json:"schemas"`
	ID          *string           `json:"id"`
	ExternalID  *string           `json:"externalId"`
	DisplayName *string           `json:"displayName"`
	Members     *[]jsontext.Value `json:"members"`
}

var groupAttributes = []string{"schemas", "id", "externalId", "displayName", "members"}

type meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

type userOut struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	UserName    string   `json:"userName"`
	DisplayName string   `json:"displayName,omitempty"`
	Active      bool     `json:"active"`
	Meta        meta     `json:"meta"`
}

type groupOut struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	ExternalID  string      `json:"externalId,omitempty"`
	DisplayName string      `json:"displayName"`
	Members     []memberRef `json:"members,omitempty"`
	Meta        meta        `json:"meta"`
}

type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// baseURL is the endpoint's address as the caller reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func version(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

func userResource(r *http.Request, u *store.DirectoryUser) userOut {
	return userOut{Schemas: []string{userSchema}, ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, Active: u.Active,
		Meta: meta{ResourceType: "User", Created: stamp(u.Created), LastModified: stamp(u.Modified),
			Location: baseURL(r) + "/Users/" + u.ID, Version: version(u.Version)}}
}

func groupResource(r *http.Request, g *store.DirectoryGroup, withMembers bool) groupOut {
	out := groupOut{Schemas: []string{groupSchema}, ID: g.ID, ExternalID: g.ExternalID, DisplayName: g.DisplayName,
		Meta: meta{ResourceType: "Group", Created: stamp(g.Created), LastModified: stamp(g.Modified),
			Location: baseURL(r) + "/Groups/" + g.ID, Version: version(g.Version)}}
	if withMembers {
		for _, m := range g.Members {
			out.Members = append(out.Members, memberRef{Value: m})
		}
	}
	return out
}

// serviceProviderConfig says what this endpoint supports.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	type supported struct {
		Supported bool `json:"supported"`
	}
	type filter struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	}
	type bulk struct {
		Supported      bool `json:"supported"`
		MaxOperations  int  `json:"maxOperations"`
		MaxPayloadSize int  `json:"maxPayloadSize"`
	}
	type scheme struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	writeJSON(w, http.StatusOK, struct {
		Schemas               []string  `json:"schemas"`
		DocumentationURI      string    `json:"documentationUri"`
		Patch                 supported `json:"patch"`
		Bulk                  bulk      `json:"bulk"`
		Filter                filter    `json:"filter"`
		ChangePassword        supported `json:"changePassword"`
		Sort                  supported `json:"sort"`
		ETag                  supported `json:"etag"`
		AuthenticationSchemes []scheme  `json:"authenticationSchemes"`
	}{
		Schemas:          []string{spcSchema},
		DocumentationURI: "docs/identity.md",
		Patch:            supported{true},
		Filter:           filter{true, maxCount},
		AuthenticationSchemes: []scheme{{Type: "oauthbearertoken", Name: "Bearer token",
			Description: "the token in the CA's scim.token_file"}},
	})
}
