package i18ntest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template/parse"
	"unicode"
)

// Allowed are the words a template may hold as they are in every language: names of
// things and units that are not translated.
var Allowed = map[string]bool{}

// hole stands for an action in the text of a template: what it prints comes from Go.
const hole = "\x00"

// Untranslated returns the texts with letters in the template src (an HTML template when
// html is true, else plain text) that do not come from the catalog: text between tags
// and the values of the attributes people read or hear (aria-label, title, alt,
// placeholder, value of a button). Each is trimmed and quoted as it stands in src.
func Untranslated(name, src string, html bool) ([]string, error) {
	trees, err := parseAll(name, src)
	if err != nil {
		return nil, err
	}
	var found []string
	names := make([]string, 0, len(trees))
	for n := range trees {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var b strings.Builder
		flatten(&b, trees[n].Root)
		if html {
			found = append(found, htmlTexts(b.String())...)
		} else {
			found = append(found, plainTexts(b.String())...)
		}
	}
	return found, nil
}

// Keys returns the catalog keys src passes to t and thtml as literal strings, and the
// prefixes of the keys it builds ({{t (print "tokens.status." .Status)}} uses every key
// that starts with "tokens.status.").
func Keys(name, src string) (keys, prefixes []string, err error) {
	trees, err := parseAll(name, src)
	if err != nil {
		return nil, nil, err
	}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			if len(n.Args) >= 2 {
				if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "thtml") {
					switch a := n.Args[1].(type) {
					case *parse.StringNode:
						keys = append(keys, a.Text)
					case *parse.PipeNode:
						if p := printPrefix(a); p != "" {
							prefixes = append(prefixes, p)
						}
					}
				}
			}
			for _, c := range n.Args {
				walk(c)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, t := range trees {
		walk(t.Root)
	}
	return keys, prefixes, nil
}

// printPrefix returns the literal first argument of a (print "prefix" ...) pipeline.
func printPrefix(p *parse.PipeNode) string {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) < 2 {
		return ""
	}
	id, ok := p.Cmds[0].Args[0].(*parse.IdentifierNode)
	if !ok || id.Ident != "print" {
		return ""
	}
	if s, ok := p.Cmds[0].Args[1].(*parse.StringNode); ok {
		return s.Text
	}
	return ""
}

func parseAll(name, src string) (map[string]*parse.Tree, error) {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(src, "", "", trees); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return trees, nil
}

// flatten writes the text of n with a hole for every action, and the text of every branch
// one after the other.
func flatten(b *strings.Builder, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			flatten(b, c)
		}
	case *parse.TextNode:
		b.Write(n.Text)
	case *parse.IfNode:
		b.WriteString(hole)
		flatten(b, n.List)
		b.WriteString(hole)
		flatten(b, n.ElseList)
		b.WriteString(hole)
	case *parse.RangeNode:
		b.WriteString(hole)
		flatten(b, n.List)
		b.WriteString(hole)
		flatten(b, n.ElseList)
		b.WriteString(hole)
	case *parse.WithNode:
		b.WriteString(hole)
		flatten(b, n.List)
		b.WriteString(hole)
		flatten(b, n.ElseList)
		b.WriteString(hole)
	default:
		b.WriteString(hole)
	}
}

// readAttrs are the attributes whose values people read or hear.
var readAttrs = map[string]bool{"aria-label": true, "title": true, "alt": true, "placeholder": true, "aria-placeholder": true}

var (
	tagRe  = regexp.MustCompile(`(?s)<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')`)
)

// htmlTexts returns the texts people read in s, an HTML fragment with holes.
func htmlTexts(s string) []string {
	var out []string
	// Comments, the doctype, and the content of scripts and styles are not read.
	s = regexp.MustCompile(`(?s)<!--.*?-->|<!.*?>`).ReplaceAllString(s, " ")
	s = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>.*?</(script|style)>`).ReplaceAllString(s, " ")
	last := 0
	for _, m := range tagRe.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, words(s[last:m[0]])...)
		last = m[1]
		tag, attrs := strings.ToLower(s[m[4]:m[5]]), s[m[6]:m[7]]
		isButtonValue := (tag == "input" && regexp.MustCompile(`type\s*=\s*"(submit|button|reset)"`).MatchString(attrs))
		for _, a := range attrRe.FindAllStringSubmatch(attrs, -1) {
			name := strings.ToLower(a[1])
			if readAttrs[name] || (name == "value" && isButtonValue) {
				out = append(out, words(a[3]+a[4])...)
			}
		}
	}
	out = append(out, words(s[last:])...)
	return out
}

// plainTexts returns the texts of s, a plain-text template with holes.
func plainTexts(s string) []string { return words(s) }

// words returns each run of text between holes in s that has a letter, unless the run is
// allowed.
func words(s string) []string {
	var out []string
	for _, part := range strings.Split(s, hole) {
		part = strings.Join(strings.Fields(part), " ")
		if part == "" || Allowed[part] || !hasLetter(part) {
			continue
		}
		out = append(out, part)
	}
	return out
}

func hasLetter(s string) bool {
	// Entities such as &nbsp; and &middot; are not words.
	s = regexp.MustCompile(`&[a-zA-Z]+;|&#[0-9]+;`).ReplaceAllString(s, "")
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
