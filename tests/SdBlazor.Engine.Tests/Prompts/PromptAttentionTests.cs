using System.Diagnostics;
using SdBlazor.Engine.Prompts;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// Golden weight tables for A1111's <c>parse_prompt_attention</c>: its doctests (exact doubles, as Python prints them),
/// then one case per rule, with the arithmetic in the comment.
/// </summary>
public sealed class PromptAttentionTests
{
    private static (string, double)[] P(string text, EmphasisMode mode = EmphasisMode.Original) =>
        PromptAttention.Parse(text, mode).Select(w => (w.Text, w.Weight)).ToArray();

    [Fact]
    public void Matches_a1111_doctests()
    {
        Assert.Equal([("normal text", 1.0)], P("normal text"));
        Assert.Equal([("an ", 1.0), ("important", 1.1), (" word", 1.0)], P("an (important) word"));
        Assert.Equal([("unbalanced", 1.1)], P("(unbalanced"));
        Assert.Equal([("(literal]", 1.0)], P(@"\(literal\]"));
        Assert.Equal([("unnecessaryparens", 1.1)], P("(unnecessary)(parens)"));
        // The outer "(" never closes, so everything after it gets ×1.1 at the end; "house" is 1.3 · 1.1 · 1.1.
        Assert.Equal(
            [("a ", 1.0), ("house", 1.5730000000000004), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55),
             (", sun, ", 1.1), ("sky", 1.4641000000000006), (".", 1.1)],
            P("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", EmphasisMode.Original));
    }

    public static TheoryData<string, (string, double)[]> Rules => new()
    {
        // [x] is ÷1.1, i.e. × (1 / 1.1); nested [[x]] twice.
        { "[a]", [("a", 1 / 1.1)] },
        { "[[a]]", [("a", 1.0 * (1 / 1.1) * (1 / 1.1))] },
        // An explicit weight replaces the 1.1 of its brackets; whitespace around the number is allowed.
        { "(a:1.3)", [("a", 1.3)] },
        { "(a: 0.5 )", [("a", 0.5)] },
        { "(a:-1)", [("a", -1.0)] },
        // Nested explicit weights multiply, inner first: 1.0 · 1.2 · 1.5.
        { "((a:1.2) b:1.5)", [("a", 1.0 * 1.2 * 1.5), (" b", 1.5)] },
        // Escapes: \( \) \[ \] \\ give the character; a lone backslash vanishes (A1111's text[1:]).
        { @"\\ \x", [(@"\ x", 1.0)] },
        // ":1.5)" with no open "(" is text; so is a colon inside brackets without a number.
        { "a:1.5)", [("a:1.5)", 1.0)] },
        { "[a:b]", [("a:b", 1 / 1.1)] },
        // A weight Python's float() rejects (A1111 raises) is read as text: the ")" then closes with ×1.1.
        { "(a:1.2.3)", [("a:1.2.3", 1.1)] },
        // BREAK as a whole word, with the whitespace around it, splits; inside a word it does not.
        { "a BREAK b", [("a", 1.0), ("BREAK", -1.0), ("b", 1.0)] },
        { "aBREAK b", [("aBREAK b", 1.0)] },
        // Inside brackets A1111 multiplies the BREAK marker too (−1 × 1.1), so it is no longer a break there.
        { "(a BREAK b)", [("a", 1.1), ("BREAK", -1.1), ("b", 1.1)] },
        // Unmatched closers are text; crossing brackets weigh as A1111's two separate stacks do: "b" gets ×1.1 then ÷1.1.
        { "a)]", [("a)]", 1.0)] },
        { "(a [b) c]", [("a ", 1.1), ("b", 1.1 * (1 / 1.1)), (" c", 1 / 1.1)] },
        { "", [("", 1.0)] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Follows_a1111_rules(string text, (string, double)[] expected) => Assert.Equal(expected, P(text));

    [Fact]
    public void Break_splits_only_as_a_whole_word()
    {
        var parsed = PromptAttention.Parse("cat BREAK dog");
        Assert.True(parsed[1].IsBreak);
        Assert.DoesNotContain(PromptAttention.Parse("cat BREAKS dog"), w => w.IsBreak);
    }

    [Fact]
    public void Emphasis_none_keeps_brackets_and_break_literal()
    {
        Assert.Equal([("a (b:1.2) BREAK [c]", 1.0)], P("a (b:1.2) BREAK [c]", EmphasisMode.None));
        // "Ignore" still parses (brackets go away); the weights are dropped later, at encoding.
        Assert.Equal([("a ", 1.0), ("b", 1.2)], P("a (b:1.2)", EmphasisMode.Ignore));
    }

    [Fact]
    public void Deep_nesting_of_a_megabyte_stays_linear_and_close_to_the_exact_products()
    {
        // 2^18 nested "(x" never closed: A1111's loop is quadratic here; ours switches to summed logarithms.
        const int depth = 1 << 18;
        var text = string.Concat(Enumerable.Repeat("(x", depth));
        var clock = Stopwatch.StartNew();
        var parsed = PromptAttention.Parse(text);
        clock.Stop();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        // Segment k sits inside k + 1 brackets: 1.1^(k+1); the first few are compared with the exact value.
        Assert.Equal(1.1, parsed[0].Weight, 12);
        Assert.Equal(1.1 * 1.1, parsed[1].Weight, 12);
        // Far down the weights overflow to infinity (as A1111's would) and merge; no text is lost.
        Assert.Equal(text.Length / 2, string.Concat(parsed.Select(w => w.Text)).Length);

        // A mixture that cancels (×1.1 then ÷1.1 alternately) keeps weights near 1 even at depth.
        var mixed = string.Concat(Enumerable.Repeat("([x", depth / 2)) + string.Concat(Enumerable.Repeat("])", depth / 2));
        clock.Restart();
        var weights = PromptAttention.Parse(mixed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.All(weights, w => Assert.InRange(w.Weight, 0.5, 1.5));
    }
}
