using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using SdBlazor.Engine.Imaging;

namespace SdBlazor.Engine.Tests.Imaging;

/// <summary>
/// Issue 27, item 2: 1 MB texts built to make A1111's parameter regex backtrack. The old parser needed minutes to
/// hours on each (quadratic or worse); the bound here is generous for a slow CI machine and still far below that.
/// </summary>
public sealed class InfotextAdversarialTests
{
    // Just under Infotext.MaxParsedLength, so nothing is cut and every character is parsed.
    private const int Size = 1_000_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Inputs => new()
    {
        "no-colon-word-run",
        "spaces-and-words",
        "key-colon-no-comma",
        "open-quote",
        "escaped-quotes",
        "many-pairs",
    };

    private const int Pairs = 60_000;

    private static string Make(string name) => name switch
    {
        // The key pattern \w[\w \-/]+ scans to the end from every start position and then finds no colon.
        "no-colon-word-run" => new string('a', Size),
        "spaces-and-words" => string.Concat(Enumerable.Repeat("ab -/ ", Size / 6)),
        "key-colon-no-comma" => "a: " + new string('x', Size),
        "open-quote" => "a: \"" + string.Concat(Enumerable.Repeat("\\x", Size / 2)),
        "escaped-quotes" => "k: \"" + string.Concat(Enumerable.Repeat("\\\"", Size / 2)) + "x",
        "many-pairs" => string.Join(", ", Enumerable.Range(0, Pairs).Select(i => $"K{i}: v{i}")),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void One_megabyte_adversarial_lines_parse_fast_and_correctly(string name)
    {
        var text = "a prompt\n" + Make(name);
        var clock = Stopwatch.StartNew();
        var parsed = Infotext.Parse(text);
        Assert.True(clock.Elapsed < Bound, $"{name}: {clock.Elapsed}");

        if (name == "many-pairs")
        {
            Assert.Equal("a prompt", parsed.Prompt);
            Assert.Equal(Pairs, parsed.Pairs.Count);
            Assert.Equal("v7", parsed.Get("K7"));
        }
        else if (name == "key-colon-no-comma")
        {
            // One pair only (fewer than three): A1111 treats the line as prompt text.
            Assert.Empty(parsed.Pairs);
            Assert.Equal(text.Trim(), parsed.Prompt);
        }
        else
        {
            Assert.Empty(parsed.Pairs);
            Assert.Equal(text.Trim(), parsed.Prompt);
        }
    }

    [Fact]
    public void Text_over_the_cap_is_cut_not_refused()
    {
        var text = "p\n" + new string('a', Infotext.MaxParsedLength + 10);
        var parsed = Infotext.Parse(text);
        Assert.Equal(Infotext.MaxParsedLength, parsed.Prompt.Length);
    }

    /// <summary>The linear-time engine must find exactly the matches A1111's (backtracking) regex finds.</summary>
    [Fact]
    public void Matches_equal_the_backtracking_regex_on_random_lines()
    {
        var backtracking = new Regex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""");
        var random = new Random(27);
        const string alphabet = "ab :,\"\\-/ x1_\t";
        for (var n = 0; n < 3000; n++)
        {
            var sb = new StringBuilder();
            var length = random.Next(1, 40);
            for (var i = 0; i < length; i++) sb.Append(alphabet[random.Next(alphabet.Length)]);
            var line = sb.ToString();
            var text = "prompt\n" + line;
            // Parse trims the text first, as A1111 does.
            var expected = backtracking.Matches(text.Trim().Split('\n')[^1]).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
            var parsed = Infotext.Parse(text);
            if (expected.Count < 3) Assert.Empty(parsed.Pairs);
            else
            {
                var unquoted = expected.Select(e => (e.Item1, e.Item2.Length > 0 && e.Item2[0] == '"' && e.Item2[^1] == '"' ? A1111QuotingProxy.Unquote(e.Item2) : e.Item2)).ToList();
                Assert.Equal(unquoted, parsed.Pairs.Select(p => (p.Key, p.Value)).ToList());
            }
        }
    }

    private static class A1111QuotingProxy
    {
        public static string Unquote(string value)
        {
            try { return System.Text.Json.JsonSerializer.Deserialize<string>(value) ?? value; }
            catch (System.Text.Json.JsonException) { return value; }
        }
    }
}
