package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Parsed is a received message with its bodies decoded.
type Parsed struct {
	Header  mail.Header
	From    string
	To      string
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part
}

// Parse reads a MIME message (what an SMTP server receives, or an .eml file).
func Parse(raw []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	p := &Parsed{Header: m.Header, From: m.Header.Get("From"), To: m.Header.Get("To"), Subject: subject}
	if err := p.walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Parsed) walk(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("read %s part: %w", mt, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		p.Text = text
	case "text/html":
		p.HTML = text
	}
	return nil
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// Link returns the first URL in the text body that contains part, or "".
func (p *Parsed) Link(part string) string {
	for _, l := range linkRE.FindAllString(p.Text, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}

// MustParse parses raw or fails the test.
func MustParse(t testing.TB, raw []byte) *Parsed {
	t.Helper()
	p, err := Parse(raw)
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	return p
}

// Outbox returns the messages in an outbox directory, oldest first (the file names sort
// by time). A missing directory holds no messages.
func Outbox(t testing.TB, dir string) []*Parsed {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var out []*Parsed
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, MustParse(t, raw))
	}
	return out
}

// LastTo returns the newest message to the address (the To header contains it), or fails.
func LastTo(t testing.TB, msgs []*Parsed, to string) *Parsed {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(msgs[i].To), strings.ToLower(to)) {
			return msgs[i]
		}
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.To+": "+m.Subject)
	}
	t.Fatalf("no message to %s among %d: %v", to, len(msgs), got)
	return nil
}
