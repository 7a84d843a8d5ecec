package sqlstore_test

import (
	"database/sql"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
)

// migrationName is goose's file name: a version, an underscore, a name.
var migrationName = regexp.MustCompile(`^(\d+)_[a-z0-9_]+\.sql$`)

// TestMigrationTreesHaveTheSameVersions: both dialects have one migration per version,
// under the same names, so a change to the schema is never made for one database only.
func TestMigrationTreesHaveTheSameVersions(t *testing.T) {
	files := func(dialect string) []string {
		t.Helper()
		entries, err := os.ReadDir("migrations/" + dialect)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		versions := map[string]string{}
		for _, e := range entries {
			m := migrationName.FindStringSubmatch(e.Name())
			if m == nil {
				t.Errorf("migrations/%s/%s is not named VERSION_name.sql", dialect, e.Name())
				continue
			}
			if other, dup := versions[m[1]]; dup {
				t.Errorf("migrations/%s: version %s twice: %s and %s", dialect, m[1], other, e.Name())
			}
			versions[m[1]] = e.Name()
			names = append(names, e.Name())
		}
		sort.Strings(names)
		return names
	}
	sqlite, postgres := files("sqlite"), files("postgres")
	if len(sqlite) == 0 {
		t.Fatal("no migrations found")
	}
	if !slices.Equal(sqlite, postgres) {
		t.Fatalf("the migration trees differ:\n sqlite:   %v\n postgres: %v", sqlite, postgres)
	}
}

// TestMigratedSchemasMatch migrates an empty SQLite and an empty PostgreSQL database and
// compares what came out: the same tables with the same columns (types differ by dialect).
func TestMigratedSchemasMatch(t *testing.T) {
	_, path := openTemp(t)
	lite := schemaOf(t, rawDB(t, path),
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`,
		`SELECT name FROM pragma_table_info(?)`)

	_, raw := openPostgresRaw(t, 2)
	pg := schemaOf(t, raw,
		`SELECT table_name FROM information_schema.tables
		 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`,
		`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`)

	if !reflect.DeepEqual(tableNames(lite), tableNames(pg)) {
		t.Fatalf("tables differ:\n sqlite:   %v\n postgres: %v", tableNames(lite), tableNames(pg))
	}
	for table, cols := range lite {
		if !slices.Equal(cols, pg[table]) {
			t.Errorf("columns of %s differ:\n sqlite:   %v\n postgres: %v", table, cols, pg[table])
		}
	}
}

// schemaOf returns every table with its sorted column names.
func schemaOf(t *testing.T, db *sql.DB, tablesQuery, columnsQuery string) map[string][]string {
	t.Helper()
	tables := queryStrings(t, db, tablesQuery)
	out := map[string][]string{}
	for _, table := range tables {
		cols := queryStrings(t, db, columnsQuery, table)
		sort.Strings(cols)
		out[table] = cols
	}
	return out
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tableNames(schema map[string][]string) []string {
	var names []string
	for n := range schema {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// skippedVersions are versions no migration may ever take: a later version was applied on
// databases before any migration took them, and goose refuses a missing lower version
// found later on such a database.
var skippedVersions = []int{13, 18}

// TestSkippedVersionsStayUnused: the versions run from 1 up without gaps but the skipped
// ones, so a new migration takes the next number after the highest.
func TestSkippedVersionsStayUnused(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		entries, err := os.ReadDir("migrations/" + dialect)
		if err != nil {
			t.Fatal(err)
		}
		have := map[int]bool{}
		highest := 0
		for _, e := range entries {
			m := migrationName.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			var v int
			for _, c := range m[1] {
				v = v*10 + int(c-'0')
			}
			have[v] = true
			highest = max(highest, v)
		}
		for v := 1; v <= highest; v++ {
			skipped := slices.Contains(skippedVersions, v)
			switch {
			case skipped && have[v]:
				t.Errorf("migrations/%s: version %05d must stay unused (databases migrated past it would refuse it); number the migration %05d", dialect, v, highest+1)
			case !skipped && !have[v]:
				t.Errorf("migrations/%s: version %05d is missing; a new migration takes the next number after the highest", dialect, v)
			}
		}
	}
}
