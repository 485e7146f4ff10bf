package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadData loads one conversation per kind of data: and checks what each
// row became: its name, its vars (row over conversation over suite), the row
// it came from, and the settings every row shares.
func TestLoadData(t *testing.T) {
	path := filepath.Join("testdata", "data", "good.yaml")
	s, err := loadOne(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name string
		vars map[string]string
		data DataRow
	}
	want := []row{
		{"refund for ord_1", map[string]string{"shop": "acme", "order": "ord_1", "plan": "pro", "amount": "12"}, DataRow{Index: 1, Line: 9}},
		{"refund for ord_2", map[string]string{"shop": "acme", "order": "ord_2", "plan": "basic", "amount": "7.5"}, DataRow{Index: 2, Line: 10}},
		{"csv ord_10", map[string]string{"shop": "acme", "order": "ord_10", "customer": "Ana, Lda"}, DataRow{File: "orders.csv", Index: 1, Line: 2}},
		{"csv ord_11", map[string]string{"shop": "acme", "order": "ord_11", "customer": "Bo"}, DataRow{File: "orders.csv", Index: 2, Line: 3}},
		{"csv ord_12", map[string]string{"shop": "acme", "order": "ord_12", "customer": ""}, DataRow{File: "orders.csv", Index: 3, Line: 5}},
		{"jsonl #1", map[string]string{"shop": "acme", "order": "ord_20", "amount": "12", "vip": "true"}, DataRow{File: "orders.jsonl", Index: 1, Line: 1}},
		{"jsonl #2", map[string]string{"shop": "acme", "order": "ord_21", "amount": "1.5e2", "vip": "false"}, DataRow{File: "orders.jsonl", Index: 2, Line: 3}},
		{"jsonl #3", map[string]string{"shop": "acme", "order": "ord_22", "amount": "0", "vip": "false"}, DataRow{File: "orders.jsonl", Index: 3, Line: 4}},
	}
	if len(s.Conversations) != len(want) {
		t.Fatalf("%d conversations, want %d", len(s.Conversations), len(want))
	}
	for i, w := range want {
		c := s.Conversations[i]
		if c.Name != w.name || !reflect.DeepEqual(c.Vars, w.vars) || c.Data == nil || *c.Data != w.data {
			t.Errorf("conversation %d = %q %v %+v\nwant %q %v %+v", i, c.Name, c.Vars, c.Data, w.name, w.vars, w.data)
		}
	}
	a, b := s.Conversations[0], s.Conversations[1]
	if a.Pos != (Pos{File: path, Line: 4, Col: 5}) || b.Pos != a.Pos {
		t.Errorf("positions %v %v, want both the conversation's, 4:5", a.Pos, b.Pos)
	}
	if a.Repeat != 2 || b.Repeat != 2 || !reflect.DeepEqual(b.Tags, []string{"refunds"}) {
		t.Errorf("row 2 has repeat %d tags %v, want the conversation's", b.Repeat, b.Tags)
	}
	a.Tags[0] = "changed"
	if b.Tags[0] != "refunds" {
		t.Error("the rows of one conversation share their tags")
	}
	if s.Conversations[2].Skip != skipReason || s.Conversations[4].Skip != skipReason {
		t.Error("skip: true does not apply to every row")
	}
	if got := Expand(b.Turns[0].User, b.Vars); got != "I want a refund of 7.5 for ord_2 (basic, acme)" {
		t.Errorf("row 2's first turn = %q", got)
	}
	if got := b.Turns[0].Expect.Expand(b.Vars).Specs[0].Value; !reflect.DeepEqual(got, []string{"ord_2"}) {
		t.Errorf("row 2's contains = %#v", got)
	}
	if got := ExpandValue(b.Session.CustomData, b.Vars); !reflect.DeepEqual(got, map[string]any{"order_id": "ord_2"}) {
		t.Errorf("row 2's session custom_data = %v", got)
	}
	if got := fmt.Sprint(*s.Conversations[0].Data, " / ", *s.Conversations[2].Data); got != "data row 1 / row 1 of orders.csv" {
		t.Errorf("DataRow.String = %q", got)
	}
}

// TestLoadDataBad pins the complete list of errors of each bad fixture. A
// template's error is at the template and names the row that lacks its
// variable; a problem inside a data file is at its line and column there.
func TestLoadDataBad(t *testing.T) {
	dir := filepath.Join("testdata", "data")
	const undefined = "add it to the row or to vars or capture it in an earlier turn"
	tests := []struct {
		file string
		want []string
	}{
		{"bad_column.yaml", []string{
			`bad_column.yaml:8:15: {{amount}} is not defined in data row 2 (line 6): ` + undefined,
			`bad_column.yaml:11:32: {{amout}} is not defined in any row of orders.csv: session values can use only vars and the row's columns, since no turn has run yet; add it to the row or to vars`,
			`bad_column.yaml:13:15: {{custmer}} is not defined in any row of orders.csv: ` + undefined + `; did you mean the column {{customer}}?`,
			`bad_column.yaml:14:11: name: {{nope}} is not defined in any row of mixed.jsonl; a name can use vars and the row's columns`,
			`bad_column.yaml:17:15: {{note}} is not defined in row 2 of mixed.jsonl (line 2) and 1 more row: ` + undefined,
			`bad_column.yaml:19:30: {{gone}} is not defined in row 1 of mixed.jsonl (line 1) and 2 more rows: ` + undefined,
		}},
		{"duplicate_names.yaml", []string{
			`duplicate_names.yaml:4:11: name: data row 1 (line 6) and data row 3 (line 8) both give the name "refund for ord_1"; names must be unique within a suite, so template the name from a column that tells the rows apart`,
			`duplicate_names.yaml:10:11: name: data row 1 (line 11) and data row 2 (line 11) both give the name "plan pro", and 1 more row repeats an earlier row's name; names must be unique within a suite, so template the name from a column that tells the rows apart`,
			`duplicate_names.yaml:13:11: duplicate conversation name "refund for ord_2": first used at line 4; names must be unique within a suite`,
			`duplicate_names.yaml:17:11: duplicate conversation name "plain" (from data row 1): first used at line 15; names must be unique within a suite`,
			// One error for the rows of a data: that clash, not one a row.
			`duplicate_names.yaml:23:11: duplicate conversation name "x again" (from data row 1): first used at line 20; names must be unique within a suite`,
		}},
		{"ragged.yaml", []string{
			`ragged.csv:3:1: row 2 has 1 value, but the header has 2 columns; give every row one value per column`,
			`ragged.csv:4:1: row 3 has 3 values, but the header has 2 columns; give every row one value per column`,
			`ragged.csv:5:10: CSV syntax error: extraneous or missing " in quoted-field`,
		}},
		{"file_problems.yaml", []string{
			`bad.jsonl:1:7: row 1: "a" holds an object; a row's values must be strings, numbers or booleans`,
			`bad.jsonl:2:1: row 2: want one JSON object per line, such as {"order": "ord_1", "amount": 12}`,
			`bad.jsonl:3:7: row 3: "a" is null; want a string, number or boolean ("" for nothing)`,
			`bad.jsonl:4:10: row 4: something follows the object; want one JSON object per line, such as {"order": "ord_1", "amount": 12}`,
			`bad.jsonl:5:8: row 5: the object is not closed on this line; want one JSON object per line, such as {"order": "ord_1", "amount": 12}`,
			`bad.jsonl:6:8: row 6: "a" appears twice in the object; each column holds one value per row`,
			`bad.jsonl:7:2: row 7: "my-col" is not a valid column name; use letters, digits and _, not starting with a digit`,
			`bad.jsonl:8:7: row 8: "a" holds a list; a row's values must be strings, numbers or booleans`,
			`bad.jsonl:9:7: row 9: JSON syntax error: invalid character '}' in literal true (expecting 'e')`,
			`bad_header.csv:1:7: column 2 has no name; every column needs one, as it becomes a template variable`,
			`bad_header.csv:1:8: column "order" appears twice, as columns 1 and 3; each name can hold only one value per row`,
			`bad_header.csv:1:14: column name "my col" is not a valid variable name; use letters, digits and _, not starting with a digit`,
			`empty.csv:1:1: the file is empty; want a header row naming the columns, then one row per conversation`,
			`file_problems.yaml:3:21: data: "orders.txt" is neither .csv nor .jsonl; want a CSV file with a header row or a JSON Lines file with one object per line`,
			`file_problems.yaml:4:21: data: cannot read ` + filepath.Join(dir, "missing.csv") + `: no such file or folder (the path is relative to the suite's folder)`,
			`file_problems.yaml:9:21: data: want a list of rows (mappings of column to value) or the path of a .csv or .jsonl file beside the suite, got the integer 42`,
			`file_problems.yaml:10:21: data: the list is empty; add at least one row, such as {order: ord_1}`,
			`file_problems.yaml:11:30: data.order: want a string, number or boolean, got a mapping`,
			`file_problems.yaml:11:44: data: want a mapping, got "x"`,
			`file_problems.yaml:11:48: data: "my col" is not a valid variable name; use letters, digits and _, not starting with a digit`,
			`file_problems.yaml:12:21: data: want the path of a .csv or .jsonl file, got an empty string`,
			`file_problems.yaml:13:21: data: the path must not read the environment (${...}); write it relative to the suite's folder`,
			`header_only.csv:1:1: the file has a header but no rows; add one row per conversation`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ss, err := Load(filepath.Join(dir, tt.file), Options{})
			if ss != nil || err == nil {
				t.Fatalf("Load = %d suites, %v; want only errors", len(ss), err)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = filepath.Join(dir, w)
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

// TestDataRowCap: MaxDataRows rows load, one more is refused where it is
// written, in a data file of either kind and in the suite.
func TestDataRowCap(t *testing.T) {
	rows := func(n int, line func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(line(i))
		}
		return b.String()
	}
	csvRow := func(i int) string { return fmt.Sprintf("ord_%d\n", i) }
	jsonlRow := func(i int) string { return fmt.Sprintf("{\"order\": \"ord_%d\"}\n", i) }
	inlineRow := func(i int) string { return fmt.Sprintf("      - {order: ord_%d}\n", i) }
	suite := func(data string) string {
		return "provider: {type: opencx, base_url: sim}\nconversations:\n  - name: \"{{order}}\"\n    turns: [{user: \"{{order}}\"}]\n    data:" + data
	}
	tests := []struct {
		name        string
		suite, file string // file is written as data.csv or data.jsonl when set
		ext         string
		wantErr     string // "" for a load without error
	}{
		{"csv at the cap", suite(" data.csv\n"), "order\n" + rows(MaxDataRows, csvRow), ".csv", ""},
		{"csv past the cap", suite(" data.csv\n"), "order\n" + rows(MaxDataRows+1, csvRow), ".csv",
			"data.csv:10002:1: more than 10000 rows, the most one conversation may have; split the file"},
		{"jsonl past the cap", suite(" data.jsonl\n"), rows(MaxDataRows+1, jsonlRow), ".jsonl",
			"data.jsonl:10001:1: more than 10000 rows, the most one conversation may have; split the file"},
		{"inline at the cap", suite("\n" + rows(MaxDataRows, inlineRow)), "", "", ""},
		{"inline past the cap", suite("\n" + rows(MaxDataRows+1, inlineRow)), "", "",
			"suite.yaml:10006:9: data: more than 10000 rows, the most one conversation may have; split them among several conversations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "suite.yaml")
			if err := os.WriteFile(path, []byte(tt.suite), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "data"+tt.ext), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ss, err := Load(path, Options{})
			if tt.wantErr == "" {
				if err != nil || len(ss[0].Conversations) != MaxDataRows {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if want := filepath.Join(dir, tt.wantErr); err == nil || err.Error() != want {
				t.Errorf("Load error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

// TestDataFileTooLarge: a data file is read like a suite, refused from its
// size before it is read.
func TestDataFileTooLarge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "suite.yaml")
	suite := "provider: {type: opencx, base_url: sim}\nconversations:\n  - {name: a, data: big.csv, turns: [{user: hi}]}\n"
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, []byte("order\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 200<<20); err != nil { // sparse: nothing on disk
		t.Fatal(err)
	}
	want := path + ":3:21: data: cannot read " + big + ": the file is 200 MiB, more than 10 MiB, the largest data file evalrun reads; split it into several files (the path is relative to the suite's folder)"
	if _, err := Load(path, Options{}); err == nil || err.Error() != want {
		t.Errorf("Load error:\n%v\nwant:\n%s", err, want)
	}
}
