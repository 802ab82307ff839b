using System.Diagnostics;
using SdBlazor.Engine.Prompts;
using Xunit;

namespace SdBlazor.Engine.Tests.Prompts;

/// <summary>
/// Prompt editing and alternation against A1111's published behaviour: the doctests of
/// <c>get_learned_conditioning_prompt_schedules</c> (10 steps), each as (end step, text) pairs.
/// </summary>
public sealed class PromptScheduleTests
{
    private static (int, string)[] G(string prompt, int steps = 10) =>
        PromptSchedule.Schedule(prompt, steps).Select(e => (e.EndAtStep, e.Text)).ToArray();

    public static TheoryData<string, (int, string)[]> A1111Doctests => new()
    {
        { "test", [(10, "test")] },
        { "a [b:3]", [(3, "a "), (10, "a b")] },
        { "a [b: 3]", [(3, "a "), (10, "a b")] },
        { "a [[[b]]:2]", [(2, "a "), (10, "a [[b]]")] },
        { "[(a:2):3]", [(3, ""), (10, "(a:2)")] },
        { "a [b : c : 1] d", [(1, "a b  d"), (10, "a  c  d")] },
        { "a[b:[c:d:2]:1]e", [(1, "abe"), (2, "ace"), (10, "ade")] },
        { "a [unbalanced", [(10, "a [unbalanced")] },
        { "a [b:.5] c", [(5, "a  c"), (10, "a b c")] },
        { "((a][:b:c [d:3]", [(3, "((a][:b:c "), (10, "((a][:b:c d")] },
        { "[a|(b:1.1)]", [(1, "a"), (2, "(b:1.1)"), (3, "a"), (4, "(b:1.1)"), (5, "a"), (6, "(b:1.1)"), (7, "a"), (8, "(b:1.1)"), (9, "a"), (10, "(b:1.1)")] },
        { "[fe|]male", [(1, "female"), (2, "male"), (3, "female"), (4, "male"), (5, "female"), (6, "male"), (7, "female"), (8, "male"), (9, "female"), (10, "male")] },
        { "[fe|||]male", [(1, "female"), (2, "male"), (3, "male"), (4, "male"), (5, "female"), (6, "male"), (7, "male"), (8, "male"), (9, "female"), (10, "male")] },
    };

    [Theory]
    [MemberData(nameof(A1111Doctests))]
    public void Matches_a1111_doctests(string prompt, (int, string)[] expected) => Assert.Equal(expected, G(prompt));

    public static TheoryData<string, (int, string)[]> Rules => new()
    {
        // A decimal point means a fraction of the steps; "1.0" is the last step, "1" the first.
        { "[a:b:0.4]", [(4, "a"), (10, "b")] },
        { "[a:b:1.0]", [(10, "a")] },
        { "[a:b:1]", [(1, "a"), (10, "b")] },
        // Beyond the steps: capped at the last step; zero or negative: never "before".
        { "[a:b:25]", [(10, "a")] },
        { "[a:b:0]", [(10, "b")] },
        { "[a:b:-2]", [(10, "b")] },
        // Exponents are numbers too (lark's SIGNED_NUMBER); "2e0" has no point, so it is a step.
        { "[a:b:2e0]", [(2, "a"), (10, "b")] },
        // Not a number after the last colon, three colons, a colon inside "[ ]" without a number: plain text.
        { "[a:b:c]", [(10, "[a:b:c]")] },
        { "[a:b:c:3]", [(10, "[a:b:c:3]")] },
        // Emphasis keeps its brackets for the attention parser; editing inside emphasis works.
        { "([cat:dog:5])", [(5, "(cat)"), (10, "(dog)")] },
        // Escaped brackets are text: no editing.
        { @"\[a:b:3\]", [(10, @"\[a:b:3\]")] },
        // A pipe outside an alternation has no parse: A1111 keeps the whole prompt, editing included.
        { "a | b [c:d:5]", [(10, "a | b [c:d:5]")] },
        // A stray closer inside a group turns that group into text; the edit next to it still works.
        { "(a] [x:y:5]", [(5, "(a] x"), (10, "(a] y")] },
        // A trailing backslash has no parse.
        { @"[a:b:5] \", [(10, @"[a:b:5] \")] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Follows_a1111_grammar_rules(string prompt, (int, string)[] expected) => Assert.Equal(expected, G(prompt));

    [Fact]
    public void Parses_into_a_tree_of_text_edits_and_alternations()
    {
        var nodes = PromptSchedule.Parse("a [b:[c|d]:0.5] e");
        Assert.Equal(3, nodes.Count);
        Assert.Equal(new TextNode("a "), nodes[0]);
        var edit = Assert.IsType<ScheduledNode>(nodes[1]);
        Assert.Equal("0.5", edit.When);
        Assert.Equal([new TextNode("b")], edit.Before!);
        var alternate = Assert.IsType<AlternateNode>(Assert.Single(edit.After));
        Assert.Equal(2, alternate.Options.Count);
        Assert.Equal(new TextNode(" e"), nodes[2]);
    }

    [Theory]
    [InlineData("(", 1 << 20)]
    [InlineData("[", 1 << 20)]
    [InlineData("[a:", 1 << 18)]
    [InlineData("[a|", 1 << 18)]
    [InlineData("(a)]", 1 << 18)]
    public void Adversarial_megabyte_prompts_parse_in_linear_time(string unit, int repeats)
    {
        var prompt = string.Concat(Enumerable.Repeat(unit, repeats / unit.Length));
        // Edits nested as deep as the prompt's length allows: each level is "[a:" … ":1]".
        var nested = string.Concat(Enumerable.Repeat("[a:", repeats / 6)) + "b" + string.Concat(Enumerable.Repeat(":1]", repeats / 6));
        var clock = Stopwatch.StartNew();
        var schedule = PromptSchedule.Schedule(prompt, 150);
        var deep = PromptSchedule.Schedule(nested, 20);
        clock.Stop();
        Assert.NotEmpty(schedule);
        Assert.Equal(2, deep.Count);
        // Linear: about a second per megabyte here on a shared 2-core machine; quadratic would take hours.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }
}
