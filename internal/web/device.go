package web

import (
	"strings"

	"github.com/twofold-id/twofold/internal/i18n"
)

// deviceName reads a User-Agent header as people name their device: "Chrome on Linux",
// "Safari on iPhone". A part it does not recognise is left out; with neither part known it
// says "Unknown device". Order matters in both tables: browsers built on another's engine
// also name that one (Edge says Chrome and Safari, Chrome says Safari).
func deviceName(ua string) string { return deviceIn(i18n.Default, ua) }

// deviceIn is deviceName in lang.
func deviceIn(lang, ua string) string {
	browser := firstMatch(ua, browsers)
	if browser == goProgram {
		browser = i18n.T(lang, "device.go_program")
	}
	system := firstMatch(ua, systems)
	switch {
	case browser != "" && system != "":
		return i18n.T(lang, "device.on", "Browser", browser, "System", system)
	case browser != "":
		return browser
	case system != "":
		return i18n.T(lang, "device.browser_on", "System", system)
	}
	return i18n.T(lang, "device.unknown")
}

// goProgram is the one name of a client that is not a product's name.
const goProgram = "Go program"

type uaToken struct{ token, name string }

var browsers = []uaToken{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"}, {"Go-http-client/", goProgram},
}

var systems = []uaToken{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"},
	{"CrOS", "ChromeOS"}, {"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

func firstMatch(ua string, table []uaToken) string {
	for _, t := range table {
		if strings.Contains(ua, t.token) {
			return t.name
		}
	}
	return ""
}
