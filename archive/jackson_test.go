package archive

import "testing"

// TestJackson checks the pretty printing Bitbucket's pull request JSON has:
// Jackson's layout, non-ASCII and control characters escaped, activity
// records starting with kind, action, createdTimestamp and userId.
func TestJackson(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"b":[],"a":{},"c":[1,2]}`, "{\n  \"a\" : { },\n  \"b\" : [ ],\n  \"c\" : [ 1, 2 ]\n}"},
		{`{"t":"é😀\n\u0001\"\\/<&"}`, "{\n  \"t\" : \"\\u00E9\\uD83D\\uDE00\\n\\u0001\\\"\\\\/<&\"\n}"},
		{`[{"userId":"u","comment":{"text":"x","id":"1"},"createdTimestamp":5,"kind":"COMMENT:ADDED"},{"kind":"ACTIVITY","action":"OPENED","userId":"u","createdTimestamp":1}]`,
			"[ {\n  \"kind\" : \"COMMENT:ADDED\",\n  \"createdTimestamp\" : 5,\n  \"userId\" : \"u\",\n  \"comment\" : {\n    \"id\" : \"1\",\n    \"text\" : \"x\"\n  }\n}, {\n  \"kind\" : \"ACTIVITY\",\n  \"action\" : \"OPENED\",\n  \"createdTimestamp\" : 1,\n  \"userId\" : \"u\"\n} ]"},
		{`{"allParticipants":[{"userId":"u","role":"AUTHOR"}],"id":1.50}`, "{\n  \"allParticipants\" : [ {\n    \"role\" : \"AUTHOR\",\n    \"userId\" : \"u\"\n  } ],\n  \"id\" : 1.50\n}"},
	}
	for _, c := range cases {
		got, err := Jackson([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("Jackson(%s) =\n%s\nwant\n%s", c.in, got, c.want)
		}
	}
	if _, err := Jackson([]byte(`{"a":1} x`)); err == nil {
		t.Error("data after the document was accepted")
	}
}
