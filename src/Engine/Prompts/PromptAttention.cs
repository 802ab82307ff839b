using System.Globalization;
using System.Text;

namespace SdBlazor.Engine.Prompts;

/// <summary>A run of prompt text and its weight; <see cref="IsBreak"/> marks A1111's <c>["BREAK", -1]</c>.</summary>
public readonly record struct WeightedText(string Text, double Weight)
{
    public const string Break = "BREAK";

    /// <summary>Exactly A1111's test (<c>text == 'BREAK' and weight == -1</c>), quirks included.</summary>
    public bool IsBreak => Weight == -1 && Text == Break;
}

/// <summary>
/// A1111's <c>prompt_parser.parse_prompt_attention</c>: <c>(text)</c> ×1.1, <c>[text]</c> ÷1.1, <c>(text:1.3)</c>,
/// <c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> <c>\\</c> escapes, <c>BREAK</c>; unclosed brackets weigh to the end; runs of
/// equal weight merged.
/// </summary>
/// <remarks>
/// A hand-written scanner that takes A1111's regex alternatives in the same order. A1111 multiplies every segment in
/// range at each closing bracket (quadratic for deep nesting); here the same products are taken in the same order while
/// that costs at most <see cref="ExactWorkBudget"/> multiplications, and otherwise by summing logarithms over a
/// difference array (linear; equal to A1111 within rounding). A weight A1111 would fail on (<c>(a:1.2.3)</c>, Python's
/// <c>float()</c> raises) is read as literal text instead.
/// </remarks>
public static class PromptAttention
{
    public const double RoundMultiplier = 1.1;
    public const double SquareMultiplier = 1 / 1.1;
    internal const long ExactWorkBudget = 1 << 22;

    private readonly record struct RangeOp(int Start, int End, double Multiplier);

    public static IReadOnlyList<WeightedText> Parse(string text, EmphasisMode mode = EmphasisMode.Original)
    {
        // A1111 skips the parser entirely for "None": brackets and BREAK stay literal text.
        if (mode == EmphasisMode.None) return [new WeightedText(text, 1.0)];

        var texts = new List<string>();
        var ops = new List<RangeOp>();
        var round = new List<int>();
        var square = new List<int>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\')
            {
                // "\(" "\)" "\[" "\]" "\\" give the character; a lone backslash gives nothing (A1111's text[1:]).
                if (i + 1 < text.Length && text[i + 1] is '(' or ')' or '[' or ']' or '\\')
                {
                    texts.Add(text[i + 1].ToString());
                    i += 2;
                }
                else
                {
                    texts.Add("");
                    i++;
                }
                continue;
            }
            switch (c)
            {
                case '(':
                    round.Add(texts.Count);
                    i++;
                    continue;
                case '[':
                    square.Add(texts.Count);
                    i++;
                    continue;
                case ':':
                    if (TryWeightClose(text, i, out var weight, out var length))
                    {
                        if (round.Count > 0)
                        {
                            ops.Add(new RangeOp(Pop(round), texts.Count, weight));
                        }
                        else AddText(texts, text.Substring(i, length));
                        i += length;
                    }
                    else
                    {
                        AddText(texts, ":");
                        i++;
                    }
                    continue;
                case ')':
                    if (round.Count > 0) ops.Add(new RangeOp(Pop(round), texts.Count, RoundMultiplier));
                    else AddText(texts, ")");
                    i++;
                    continue;
                case ']':
                    if (square.Count > 0) ops.Add(new RangeOp(Pop(square), texts.Count, SquareMultiplier));
                    else AddText(texts, "]");
                    i++;
                    continue;
            }
            var start = i;
            while (i < text.Length && text[i] is not ('\\' or '(' or ')' or '[' or ']' or ':')) i++;
            AddText(texts, text[start..i]);
        }
        // Unclosed brackets: A1111 multiplies from the bottom of each stack, round before square.
        foreach (var start in round) ops.Add(new RangeOp(start, texts.Count, RoundMultiplier));
        foreach (var start in square) ops.Add(new RangeOp(start, texts.Count, SquareMultiplier));

        if (texts.Count == 0) return [new WeightedText("", 1.0)];
        var weights = Weights(texts, ops);
        return Merge(texts, weights);
    }

    private static int Pop(List<int> stack)
    {
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    /// <summary>A1111's <c>:\s*([+-]?[.\d]+)\s*\)</c> at <paramref name="i"/>, with the number readable by <c>float()</c>.</summary>
    private static bool TryWeightClose(string text, int i, out double weight, out int length)
    {
        weight = 0;
        length = 0;
        var j = i + 1;
        while (j < text.Length && char.IsWhiteSpace(text[j])) j++;
        var numberStart = j;
        if (j < text.Length && text[j] is '+' or '-') j++;
        var digitsStart = j;
        while (j < text.Length && (text[j] == '.' || char.IsDigit(text[j]))) j++;
        if (j == digitsStart) return false;
        var numberEnd = j;
        while (j < text.Length && char.IsWhiteSpace(text[j])) j++;
        if (j >= text.Length || text[j] != ')') return false;
        if (!double.TryParse(text.AsSpan(numberStart, numberEnd - numberStart), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out weight)) return false;
        length = j + 1 - i;
        return true;
    }

    /// <summary>Adds a text run, split at BREAK as A1111's <c>re.split(r"\s*\bBREAK\b\s*", text)</c> does.</summary>
    private static void AddText(List<string> texts, string run)
    {
        var partStart = 0;
        var searchFrom = 0;
        while (true)
        {
            var at = run.IndexOf(WeightedText.Break, searchFrom, StringComparison.Ordinal);
            if (at < 0) break;
            var end = at + WeightedText.Break.Length;
            var boundaryBefore = at == 0 || !IsWordChar(run[at - 1]);
            var boundaryAfter = end == run.Length || !IsWordChar(run[end]);
            if (!boundaryBefore || !boundaryAfter)
            {
                searchFrom = at + 1;
                continue;
            }
            var matchStart = at;
            while (matchStart > partStart && char.IsWhiteSpace(run[matchStart - 1])) matchStart--;
            while (end < run.Length && char.IsWhiteSpace(run[end])) end++;
            texts.Add(run[partStart..matchStart]);
            texts.Add(WeightedText.Break);
            partStart = searchFrom = end;
        }
        texts.Add(run[partStart..]);
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static double[] Weights(List<string> texts, List<RangeOp> ops)
    {
        var weights = new double[texts.Count];
        Array.Fill(weights, 1.0);
        for (var k = 0; k < texts.Count; k++) if (ReferenceEquals(texts[k], WeightedText.Break)) weights[k] = -1;

        long work = 0;
        foreach (var op in ops) work += op.End - op.Start;
        if (work <= ExactWorkBudget)
        {
            foreach (var op in ops)
                for (var p = op.Start; p < op.End; p++) weights[p] *= op.Multiplier;
            return weights;
        }

        // Linear fallback for adversarial nesting: per segment, Σ log|m|, the count of negative and of zero multipliers.
        var logs = new double[texts.Count + 1];
        var negatives = new int[texts.Count + 1];
        var zeros = new int[texts.Count + 1];
        foreach (var op in ops)
        {
            if (op.Start >= op.End) continue;
            if (op.Multiplier == 0)
            {
                zeros[op.Start]++;
                zeros[op.End]--;
                continue;
            }
            var log = Math.Log(Math.Abs(op.Multiplier));
            logs[op.Start] += log;
            logs[op.End] -= log;
            if (op.Multiplier < 0)
            {
                negatives[op.Start]++;
                negatives[op.End]--;
            }
        }
        double logSum = 0;
        int negativeCount = 0, zeroCount = 0;
        for (var p = 0; p < texts.Count; p++)
        {
            logSum += logs[p];
            negativeCount += negatives[p];
            zeroCount += zeros[p];
            var factor = zeroCount > 0 ? 0 : Math.Exp(logSum) * (negativeCount % 2 == 0 ? 1 : -1);
            weights[p] *= factor;
        }
        return weights;
    }

    private static List<WeightedText> Merge(List<string> texts, double[] weights)
    {
        var result = new List<WeightedText>(texts.Count);
        var builder = new StringBuilder();
        var current = weights[0];
        builder.Append(texts[0]);
        for (var k = 1; k < texts.Count; k++)
        {
            // Exact equality, as A1111: a BREAK next to text weighted exactly −1 merges into it (and stops being a break).
            if (weights[k] == current)
            {
                builder.Append(texts[k]);
                continue;
            }
            result.Add(new WeightedText(builder.ToString(), current));
            builder.Clear().Append(texts[k]);
            current = weights[k];
        }
        result.Add(new WeightedText(builder.ToString(), current));
        return result;
    }
}
