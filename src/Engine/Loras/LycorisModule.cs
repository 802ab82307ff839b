using System.Numerics;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Loras;

/// <summary>
/// One LoRA-family module of a file, as the weight difference it adds to a [rows × columns] weight (columns = in·k·k,
/// a conv weight flattened as kohya and LyCORIS flatten it), following A1111's built-in Lora extension
/// (<c>network_lora.py</c>, <c>network_hada.py</c>, <c>network_lokr.py</c>):
/// <list type="bullet">
/// <item>LoRA/LoCon: <c>up · down</c>, scale <c>alpha / rank</c> (rank = down's first size);</item>
/// <item>LoHa: <c>(w1_a · w1_b) ⊙ (w2_a · w2_b)</c>, scale <c>alpha / w1_b's first size</c>;</item>
/// <item>LoKr: <c>kron(w1, w2)</c>, each factor full (<c>lokr_w1</c>) or factorised (<c>lokr_w1_a · lokr_w1_b</c>); scale
/// <c>alpha / rank</c> of the factorised factor (w2's before w1's), 1 when both are full or no alpha is stored.</item>
/// </list>
/// With a <c>dora_scale</c> (DoRA) the merged weight is <c>W + m · (mag ⊙ W'/‖W'‖ − W)</c> where <c>W' = W + scale·ΔW</c> and
/// the norm is taken per output row when the magnitude has one value per output (PEFT, LyCORIS <c>wd_on_out</c>), or per
/// input channel over rows and kernel when it is shaped [1, in, …] (LyCORIS' other layout, the one A1111 reads). At
/// m = 1 this is the DoRA paper's merge; other multipliers interpolate between W and it, as ComfyUI does. A1111 instead
/// multiplies the decomposed difference by alpha/rank and m afterwards, which changes a DoRA's own result whenever
/// alpha ≠ rank; we follow the paper and the trainers (LyCORIS, PEFT merge W' = W + scale·ΔW before normalising).
/// Tucker-decomposed forms (<c>lora_mid</c>, <c>hada_t1</c>, <c>lokr_t2</c>) are not merged.
/// </summary>
internal sealed class LycorisModule
{
    private const float Epsilon = 1.1920929e-7f; // float32 machine epsilon, as LyCORIS adds to the norm

    private readonly SafetensorsFile _file;
    private readonly Func<float[]> _delta;

    private LycorisModule(SafetensorsFile file, string kind, int rows, int columns, float scale, Func<float[]> delta, SafetensorsTensor? dora, bool doraPerOutput)
    {
        _file = file;
        Kind = kind;
        Rows = rows;
        Columns = columns;
        Scale = scale;
        _delta = delta;
        Dora = dora;
        DoraPerOutput = doraPerOutput;
    }

    public string Kind { get; }
    public int Rows { get; }
    public int Columns { get; }
    public float Scale { get; }
    public SafetensorsTensor? Dora { get; }
    public bool DoraPerOutput { get; }

    private static readonly string[] LoraParts = [".lora_down.weight", ".lora_up.weight"];
    private static readonly string[] HadaParts = [".hada_w1_a", ".hada_w1_b", ".hada_w2_a", ".hada_w2_b"];
    private static readonly string[] LokrParts = [".lokr_w1", ".lokr_w1_a", ".lokr_w1_b", ".lokr_w2", ".lokr_w2_a", ".lokr_w2_b"];
    private const string AlphaPart = ".alpha", DoraPart = ".dora_scale";

    /// <summary>The parts of a module this class merges; anything else makes the module unsupported.</summary>
    public static bool IsKnownPart(string part) => part is AlphaPart or DoraPart || LoraParts.Contains(part) || HadaParts.Contains(part) || LokrParts.Contains(part);

    /// <summary>
    /// The module's difference for a weight of diffusers shape <paramref name="keyShape"/>; null with
    /// <paramref name="unsupported"/> (a form not merged) or <paramref name="mismatch"/> (shapes that do not fit) set.
    /// </summary>
    public static LycorisModule? Create(SafetensorsFile file, string module, IReadOnlyDictionary<string, SafetensorsTensor> parts, long[] keyShape,
        out string? unsupported, out string? mismatch)
    {
        unsupported = mismatch = null;
        var other = parts.Keys.Where(p => !IsKnownPart(p)).ToList();
        if (other.Count > 0)
        {
            unsupported = $"{module} ({string.Join(", ", other.Select(p => p.TrimStart('.')))})";
            return null;
        }
        var rows = keyShape.Length >= 2 ? keyShape[0] : 0;
        var columns = keyShape.Skip(1).Aggregate(1L, (a, d) => a * d);
        if (keyShape.Length < 2 || rows * columns > int.MaxValue)
        {
            mismatch = $"{module}: the target weight [{string.Join(", ", keyShape)}] is not a matrix or convolution";
            return null;
        }
        float? alpha = null;
        if (parts.TryGetValue(AlphaPart, out var alphaTensor))
        {
            if (alphaTensor.ElementCount != 1) { mismatch = $"{module}: alpha has {alphaTensor.ElementCount} elements"; return null; }
            alpha = Read(file, alphaTensor)[0];
            if (!float.IsFinite(alpha.Value)) { mismatch = $"{module}: alpha is {alpha}"; return null; }
        }
        SafetensorsTensor? dora = parts.GetValueOrDefault(DoraPart);
        var perOutput = true;
        if (dora is not null)
        {
            var inChannels = keyShape[1];
            if (dora.ElementCount == rows && (dora.Shape.Length <= 1 || dora.Shape[0] == rows)) perOutput = true;
            else if (dora.ElementCount == inChannels && dora.Shape.Length >= 2 && dora.Shape[0] == 1 && dora.Shape[1] == inChannels) perOutput = false;
            else
            {
                mismatch = $"{module}: dora_scale {dora.ShapeText} fits neither the outputs nor the inputs of [{string.Join(", ", keyShape)}]";
                return null;
            }
        }

        string Fit(string what) => $"{module}: {what} do not fit [{string.Join(", ", keyShape)}]";
        var (r, c) = ((int)rows, (int)columns);
        if (parts.ContainsKey(LoraParts[0]) || parts.ContainsKey(LoraParts[1]))
        {
            if (!parts.TryGetValue(LoraParts[0], out var down) || !parts.TryGetValue(LoraParts[1], out var up)) { unsupported = Incomplete(module, parts); return null; }
            if (parts.Keys.Any(p => HadaParts.Contains(p) || LokrParts.Contains(p))) { unsupported = Incomplete(module, parts); return null; }
            var rank = down.Shape.Length >= 2 ? down.Shape[0] : 0;
            if (rank <= 0 || down.ElementCount != rank * columns || up.Shape.Length < 2 || up.Shape[0] != rows || up.Shape[1] != rank || up.Shape.Skip(2).Any(d => d != 1))
            {
                mismatch = Fit($"down {down.ShapeText}, up {up.ShapeText}");
                return null;
            }
            return new LycorisModule(file, "LoRA", r, c, (alpha ?? rank) / rank, () => Product(Read(file, up), Read(file, down), r, (int)rank, c), dora, perOutput);
        }
        if (parts.Keys.Any(HadaParts.Contains))
        {
            if (!HadaParts.All(parts.ContainsKey) || parts.Keys.Any(LokrParts.Contains)) { unsupported = Incomplete(module, parts); return null; }
            var (w1a, w1b, w2a, w2b) = (parts[HadaParts[0]], parts[HadaParts[1]], parts[HadaParts[2]], parts[HadaParts[3]]);
            if (!Factor(w1a, w1b, rows, columns, out var r1) || !Factor(w2a, w2b, rows, columns, out var r2))
            {
                mismatch = Fit($"hada_w1_a {w1a.ShapeText}, hada_w1_b {w1b.ShapeText}, hada_w2_a {w2a.ShapeText}, hada_w2_b {w2b.ShapeText}");
                return null;
            }
            return new LycorisModule(file, "LoHa", r, c, alpha is { } a ? a / r1 : 1f, () =>
            {
                var first = Product(Read(file, w1a), Read(file, w1b), r, r1, c);
                var second = Product(Read(file, w2a), Read(file, w2b), r, r2, c);
                for (var i = 0; i < first.Length; i++) first[i] *= second[i];
                return first;
            }, dora, perOutput);
        }
        if (parts.Keys.Any(LokrParts.Contains))
        {
            var w1 = Kron(parts, 1);
            var w2 = Kron(parts, 2);
            if (w1 is null || w2 is null) { unsupported = Incomplete(module, parts); return null; }
            var (o1, i1) = w1.Value.Size;
            var (o2, i2) = w2.Value.Size;
            if (o1 <= 0 || o2 <= 0 || i1 <= 0 || i2 <= 0 || o1 * o2 != rows || i1 * i2 != columns || w1.Value.Full?.Shape.Length > 2)
            {
                mismatch = Fit($"LoKr factors [{o1}, {i1}] ⊗ [{o2}, {i2}]");
                return null;
            }
            var dim = w2.Value.Rank ?? w1.Value.Rank;
            var scale = alpha is { } a && dim is { } d ? a / d : 1f;
            return new LycorisModule(file, "LoKr", r, c, scale, () =>
            {
                var left = w1.Value.Values(file);
                var right = w2.Value.Values(file);
                var delta = new float[r * c];
                // kron(w1, w2)[a·o2 + b, x·i2 + y] = w1[a, x] · w2[b, y]; flattening a conv w2 [o2, in2, k, k] to [o2, in2·k·k]
                // gives the same element order as torch.kron of w1[:, :, None, None] with it, reshaped to the weight.
                for (var a = 0; a < o1; a++)
                    for (var b = 0; b < o2; b++)
                    {
                        var row = delta.AsSpan((int)((a * o2 + b) * c), c);
                        for (var x = 0; x < i1; x++)
                        {
                            var w = left[a * i1 + x];
                            for (var y = 0; y < i2; y++) row[(int)(x * i2 + y)] = w * right[b * i2 + y];
                        }
                    }
                return delta;
            }, dora, perOutput);
        }
        unsupported = Incomplete(module, parts);
        return null;
    }

    /// <summary>W (diffusers layout [rows × columns]) with the module merged at multiplier <paramref name="m"/>, in place.</summary>
    public void Apply(float[] weight, float m)
    {
        var delta = _delta();
        if (Dora is null)
        {
            var factor = m * Scale;
            for (var i = 0; i < weight.Length; i++) weight[i] += factor * delta[i];
            return;
        }
        var magnitude = Read(_file, Dora);
        var merged = new float[weight.Length];
        for (var i = 0; i < weight.Length; i++) merged[i] = weight[i] + Scale * delta[i];
        var (rows, columns) = (Rows, Columns);
        if (DoraPerOutput)
        {
            for (var o = 0; o < rows; o++)
            {
                var row = merged.AsSpan(o * columns, columns);
                var norm = (float)Math.Sqrt(SumOfSquares(row)) + Epsilon;
                var s = magnitude[o] / norm;
                for (var i = 0; i < columns; i++) weight[o * columns + i] += m * (s * row[i] - weight[o * columns + i]);
            }
            return;
        }
        var inChannels = magnitude.Length;
        var kernel = columns / inChannels;
        var norms = new double[inChannels];
        for (var o = 0; o < rows; o++)
            for (var i = 0; i < columns; i++) norms[i / kernel] += (double)merged[o * columns + i] * merged[o * columns + i];
        for (var o = 0; o < rows; o++)
            for (var i = 0; i < columns; i++)
            {
                var s = magnitude[i / kernel] / ((float)Math.Sqrt(norms[i / kernel]) + Epsilon);
                weight[o * columns + i] += m * (s * merged[o * columns + i] - weight[o * columns + i]);
            }
    }

    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values) sum += (double)v * v;
        return sum;
    }

    private static string Incomplete(string module, IReadOnlyDictionary<string, SafetensorsTensor> parts) =>
        $"{module} (an incomplete or mixed set: {string.Join(", ", parts.Keys.Select(p => p.TrimStart('.')))})";

    /// <summary>up [rows, rank] and down [rank, …] with down holding rank × columns values.</summary>
    private static bool Factor(SafetensorsTensor up, SafetensorsTensor down, long rows, long columns, out int rank)
    {
        rank = down.Shape.Length >= 2 ? (int)Math.Min(down.Shape[0], int.MaxValue) : 0;
        return rank > 0 && up.Shape.Length == 2 && up.Shape[0] == rows && up.Shape[1] == rank && down.ElementCount == rank * columns;
    }

    private readonly record struct KronFactor((long Rows, long Columns) Size, int? Rank, SafetensorsTensor? Full, SafetensorsTensor? A, SafetensorsTensor? B)
    {
        public float[] Values(SafetensorsFile file) => Full is { } full ? Read(file, full) : Product(Read(file, A!), Read(file, B!), (int)Size.Rows, Rank!.Value, (int)Size.Columns);
    }

    /// <summary>LoKr factor <paramref name="n"/> as [rows, columns]: full (<c>lokr_wN</c>, conv flattened) or <c>lokr_wN_a · lokr_wN_b</c>.</summary>
    private static KronFactor? Kron(IReadOnlyDictionary<string, SafetensorsTensor> parts, int n)
    {
        var hasFull = parts.TryGetValue($".lokr_w{n}", out var full);
        var hasA = parts.TryGetValue($".lokr_w{n}_a", out var a);
        var hasB = parts.TryGetValue($".lokr_w{n}_b", out var b);
        if (hasFull && !hasA && !hasB)
            return full!.Shape.Length >= 2 ? new KronFactor((full.Shape[0], full.Shape.Skip(1).Aggregate(1L, (x, d) => x * d)), null, full, null, null) : null;
        if (hasFull || !hasA || !hasB || a!.Shape.Length != 2 || b!.Shape.Length < 2 || a.Shape[1] != b.Shape[0] || b.Shape[0] <= 0) return null;
        var rank = (int)b.Shape[0];
        return new KronFactor((a.Shape[0], b.ElementCount / rank), rank, null, a, b);
    }

    private static float[] Read(SafetensorsFile file, SafetensorsTensor tensor)
    {
        var values = new float[tensor.ElementCount];
        file.ReadFloat32(tensor, 0, values);
        return values;
    }

    /// <summary>[rows × rank] · [rank × columns].</summary>
    private static float[] Product(float[] left, float[] right, int rows, int rank, int columns)
    {
        var result = new float[rows * columns];
        var width = Vector<float>.Count;
        for (var o = 0; o < rows; o++)
        {
            var row = result.AsSpan(o * columns, columns);
            for (var k = 0; k < rank; k++)
            {
                var u = left[o * rank + k];
                if (u == 0) continue;
                var source = right.AsSpan(k * columns, columns);
                var uv = new Vector<float>(u);
                var i = 0;
                for (; i <= columns - width; i += width)
                    (new Vector<float>(row[i..]) + uv * new Vector<float>(source[i..])).CopyTo(row[i..]);
                for (; i < columns; i++) row[i] += u * source[i];
            }
        }
        return result;
    }
}
