using System.Globalization;
using System.Text;

namespace SdBlazor.Engine.Prompts;

/// <summary>A piece of a parsed prompt: literal text, prompt editing <c>[before:after:when]</c> or alternation <c>[a|b]</c>.</summary>
public abstract record PromptNode;

/// <summary>Text as typed (escapes and emphasis brackets are kept: the attention parser reads them later).</summary>
public sealed record TextNode(string Text) : PromptNode;

/// <summary><c>[before:after:when]</c> or <c>[after:when]</c>; <paramref name="When"/> is the number as typed.</summary>
public sealed record ScheduledNode(IReadOnlyList<PromptNode>? Before, IReadOnlyList<PromptNode> After, string When) : PromptNode;

/// <summary><c>[a|b|…]</c>: option <c>(step − 1) mod count</c> at each step.</summary>
public sealed record AlternateNode(IReadOnlyList<IReadOnlyList<PromptNode>> Options) : PromptNode;

/// <summary>One entry of a prompt's schedule: <paramref name="Text"/> conditions the steps up to <paramref name="EndAtStep"/>.</summary>
public readonly record struct ScheduledPrompt(int EndAtStep, string Text);

/// <summary>
/// Prompt editing and alternation as A1111's <c>prompt_parser.get_learned_conditioning_prompt_schedules</c> reads them
/// (its lark grammar: <c>scheduled</c>, <c>alternate</c>, <c>emphasized</c>, <c>plain</c>, stray brackets at the top level).
/// </summary>
/// <remarks>
/// Hand-written rather than a grammar library: one pass pairs brackets with a stack and classifies each group from its
/// own colons and pipes, a second pass builds the tree, both with explicit stacks, so a 1 MB prompt of brackets parses
/// in linear time without recursion. Where lark finds no parse (a <c>|</c> outside an alternation, a trailing
/// backslash) A1111 uses the prompt as it is, and so does <see cref="Parse"/> (one text node).
/// A group that cannot be what its brackets say (<c>(a:b:c)</c>, <c>[a:b]</c>, <c>[a|b:1]</c>) is literal text, and
/// so is every group around it, because lark only allows stray brackets at the top level.
/// </remarks>
public static class PromptSchedule
{
    private enum GroupKind { Invalid, Emphasized, Scheduled, Alternate }

    private sealed class Group(char open, int openToken)
    {
        public readonly char Open = open;
        public readonly int OpenToken = openToken;
        public int CloseToken = -1;
        public int Colons;
        public int LastColon = -1;
        public int Pipes;
        public bool Poisoned;
        public GroupKind Kind = GroupKind.Invalid;
    }

    private enum TokenKind { Text, Open, Close, Colon, Pipe }

    private readonly record struct Token(TokenKind Kind, int Start, int Length, int Group);

    /// <summary>The prompt as a list of nodes; never throws.</summary>
    public static IReadOnlyList<PromptNode> Parse(string prompt)
    {
        if (!TryLex(prompt, out var tokens)) return [new TextNode(prompt)];
        var groups = new List<Group>();
        var stack = new List<int>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.Kind == TokenKind.Open)
            {
                groups.Add(new Group(prompt[token.Start], i));
                stack.Add(groups.Count - 1);
                tokens[i] = token with { Group = groups.Count - 1 };
            }
            else if (token.Kind == TokenKind.Close)
            {
                var open = prompt[token.Start] == ')' ? '(' : '[';
                if (stack.Count > 0 && groups[stack[^1]].Open == open)
                {
                    var id = stack[^1];
                    stack.RemoveAt(stack.Count - 1);
                    var group = groups[id];
                    group.CloseToken = i;
                    tokens[i] = token with { Group = id };
                    group.Kind = group.Poisoned ? GroupKind.Invalid : Classify(prompt, tokens, group);
                    if (group.Kind == GroupKind.Invalid) Poison(groups, stack);
                }
                else Poison(groups, stack); // a stray closer inside a group: that group and its parents are text
            }
            else if (token.Kind is TokenKind.Colon or TokenKind.Pipe && stack.Count > 0)
            {
                var group = groups[stack[^1]];
                if (token.Kind == TokenKind.Pipe) group.Pipes++;
                else
                {
                    group.Colons++;
                    group.LastColon = i;
                }
                tokens[i] = token with { Group = stack[^1] };
            }
        }
        // Unclosed groups are stray brackets (already Invalid), and so is every group around them.
        foreach (var t in tokens)
        {
            // A pipe is only grammatical inside an alternation: anywhere else lark fails and A1111 keeps the prompt as is.
            if (t.Kind == TokenKind.Pipe && (t.Group < 0 || groups[t.Group].Kind != GroupKind.Alternate))
                return [new TextNode(prompt)];
        }
        return Build(prompt, tokens, groups);
    }

    private static void Poison(List<Group> groups, List<int> stack)
    {
        // Walk down only until an already poisoned group: its parents were poisoned with it (keeps this linear).
        for (var k = stack.Count - 1; k >= 0 && !groups[stack[k]].Poisoned; k--) groups[stack[k]].Poisoned = true;
    }

    private static GroupKind Classify(string prompt, List<Token> tokens, Group group)
    {
        if (group.Open == '(') return group.Pipes == 0 && group.Colons <= 1 ? GroupKind.Emphasized : GroupKind.Invalid;
        if (group.Pipes > 0) return group.Colons == 0 ? GroupKind.Alternate : GroupKind.Invalid;
        if (group.Colons == 0) return GroupKind.Emphasized;
        if (group.Colons > 2) return GroupKind.Invalid;
        return WhenText(prompt, tokens, group) is not null ? GroupKind.Scheduled : GroupKind.Invalid;
    }

    /// <summary>The number after a group's last colon (optional whitespace around it), or null when it is not one.</summary>
    private static string? WhenText(string prompt, List<Token> tokens, Group group)
    {
        // The lexer keeps whitespace and the number in one text token: exactly one token between the colon and "]".
        var last = group.LastColon;
        if (group.CloseToken != last + 2 || tokens[last + 1].Kind != TokenKind.Text) return null;
        var token = tokens[last + 1];
        var trimmed = prompt.AsSpan(token.Start, token.Length).Trim().ToString();
        return IsSignedNumber(trimmed) ? trimmed : null;
    }

    /// <summary>lark's <c>common.SIGNED_NUMBER</c>: [+-] then INT, INT "." INT?, "." INT, each with an optional exponent.</summary>
    internal static bool IsSignedNumber(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] is '+' or '-') i++;
        var intDigits = Digits(s, ref i);
        var fraction = 0;
        var dot = false;
        if (i < s.Length && s[i] == '.')
        {
            dot = true;
            i++;
            fraction = Digits(s, ref i);
        }
        if (intDigits == 0 && fraction == 0) return false;
        if (!dot && intDigits == 0) return false;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-') i++;
            if (Digits(s, ref i) == 0) return false;
        }
        return i == s.Length;
    }

    private static int Digits(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is >= '0' and <= '9') i++;
        return i - start;
    }

    private static bool TryLex(string prompt, out List<Token> tokens)
    {
        tokens = [];
        var textStart = -1;
        void FlushText(List<Token> list, int end)
        {
            if (textStart >= 0) list.Add(new Token(TokenKind.Text, textStart, end - textStart, -1));
            textStart = -1;
        }
        for (var i = 0; i < prompt.Length; i++)
        {
            var c = prompt[i];
            TokenKind? kind = c switch
            {
                '(' or '[' => TokenKind.Open,
                ')' or ']' => TokenKind.Close,
                ':' => TokenKind.Colon,
                '|' => TokenKind.Pipe,
                _ => null,
            };
            if (kind is { } k)
            {
                FlushText(tokens, i);
                tokens.Add(new Token(k, i, 1, -1));
                continue;
            }
            if (c == '\\')
            {
                // plain allows "\" + any character but a newline; a lone backslash at the end has no parse.
                if (i + 1 >= prompt.Length || prompt[i + 1] == '\n') return false;
                if (textStart < 0) textStart = i;
                i++;
                continue;
            }
            if (textStart < 0) textStart = i;
        }
        FlushText(tokens, prompt.Length);
        return true;
    }

    private static List<PromptNode> Build(string prompt, List<Token> tokens, List<Group> groups)
    {
        // Frames of open structural groups: each collects its parts (before/after, or the options).
        var root = new List<PromptNode>();
        var frames = new Stack<(Group Group, List<List<PromptNode>> Parts)>();
        var text = new StringBuilder();
        List<PromptNode> Current() => frames.Count == 0 ? root : frames.Peek().Parts[^1];
        void Flush()
        {
            if (text.Length == 0) return;
            Current().Add(new TextNode(text.ToString()));
            text.Clear();
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var group = token.Group >= 0 ? groups[token.Group] : null;
            var structural = group is { Kind: GroupKind.Scheduled or GroupKind.Alternate };
            if (!structural || token.Kind == TokenKind.Text)
            {
                text.Append(prompt, token.Start, token.Length);
                continue;
            }
            Flush();
            switch (token.Kind)
            {
                case TokenKind.Open:
                    frames.Push((group!, [[]]));
                    break;
                case TokenKind.Pipe:
                    frames.Peek().Parts.Add([]);
                    break;
                case TokenKind.Colon when group!.LastColon == i:
                    // The last colon starts the number: skip it; the closer follows.
                    i = group.CloseToken - 1;
                    break;
                case TokenKind.Colon:
                    frames.Peek().Parts.Add([]);
                    break;
                case TokenKind.Close:
                    var (done, parts) = frames.Pop();
                    PromptNode node = done.Kind == GroupKind.Alternate
                        ? new AlternateNode(parts)
                        : parts.Count == 2
                            ? new ScheduledNode(parts[0], parts[1], WhenText(prompt, tokens, done)!)
                            : new ScheduledNode(null, parts[0], WhenText(prompt, tokens, done)!);
                    Current().Add(node);
                    break;
            }
        }
        Flush();
        return root;
    }

    /// <summary>
    /// A1111's <c>get_learned_conditioning_prompt_schedules</c> for one prompt (no hires pass, new scheduling): the steps
    /// at which the text changes, each with the text up to it; the last entry ends at <paramref name="steps"/>.
    /// </summary>
    public static IReadOnlyList<ScheduledPrompt> Schedule(string prompt, int steps) => Schedule(Parse(prompt), steps);

    public static IReadOnlyList<ScheduledPrompt> Schedule(IReadOnlyList<PromptNode> nodes, int steps)
    {
        var boundaries = new SortedSet<int> { steps };
        var alternates = false;
        foreach (var node in Walk(nodes))
        {
            if (node is ScheduledNode scheduled)
            {
                var when = When(scheduled.When, steps);
                if (when >= 1) boundaries.Add(when);
            }
            else if (node is AlternateNode) alternates = true;
        }
        if (alternates) for (var s = 1; s <= steps; s++) boundaries.Add(s);
        return boundaries.Select(step => new ScheduledPrompt(step, TextAt(nodes, step, steps))).ToList();
    }

    /// <summary>
    /// The step a <c>when</c> stands for: with a decimal point a fraction of <paramref name="steps"/>, else a step
    /// number; truncated, at most <paramref name="steps"/> (A1111 <c>collect_steps</c>, no hires offsets).
    /// </summary>
    internal static int When(string text, int steps)
    {
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (text.Contains('.')) value *= steps;
        if (double.IsNaN(value)) return 0;
        var truncated = Math.Truncate(value);
        return truncated >= steps ? steps : truncated <= int.MinValue ? int.MinValue : (int)truncated;
    }

    /// <summary>The prompt's text at <paramref name="step"/> (1-based, as A1111's <c>at_step</c>).</summary>
    public static string TextAt(IReadOnlyList<PromptNode> nodes, int step, int steps)
    {
        var result = new StringBuilder();
        var pending = new Stack<(IReadOnlyList<PromptNode> List, int Index)>();
        pending.Push((nodes, 0));
        while (pending.Count > 0)
        {
            var (list, index) = pending.Pop();
            if (index >= list.Count) continue;
            pending.Push((list, index + 1));
            switch (list[index])
            {
                case TextNode text:
                    result.Append(text.Text);
                    break;
                case ScheduledNode scheduled:
                    var chosen = step <= When(scheduled.When, steps) ? scheduled.Before : scheduled.After;
                    if (chosen is not null) pending.Push((chosen, 0));
                    break;
                case AlternateNode alternate:
                    pending.Push((alternate.Options[(step - 1) % alternate.Options.Count], 0));
                    break;
            }
        }
        return result.ToString();
    }

    private static IEnumerable<PromptNode> Walk(IReadOnlyList<PromptNode> nodes)
    {
        var pending = new Stack<IReadOnlyList<PromptNode>>();
        pending.Push(nodes);
        while (pending.Count > 0)
        {
            foreach (var node in pending.Pop())
            {
                yield return node;
                if (node is ScheduledNode s)
                {
                    if (s.Before is not null) pending.Push(s.Before);
                    pending.Push(s.After);
                }
                else if (node is AlternateNode a) foreach (var option in a.Options) pending.Push(option);
            }
        }
    }
}
