namespace SdBlazor.Engine.Randomness;

/// <summary>
/// Reproduces <c>torch.Generator('cpu').manual_seed(seed)</c> + <c>torch.randn(n, generator=g, dtype=torch.float32)</c>,
/// so a seed gives the same starting noise as diffusers/ComfyUI/InvokeAI CPU noise.
/// Not thread-safe: one instance per image (diffusers' list-of-generators semantics, see <see cref="FillNormal(IReadOnlyList{TorchGenerator}, Span{float})"/>).
/// </summary>
public sealed class TorchGenerator
{
    // torch's float uniforms keep 24 random bits (float's digits): (random() & (2^24 − 1)) · 2^−24.
    private const uint FloatMask = (1u << 24) - 1;
    private const float FloatDivisor = 1.0f / (1 << 24);
    // Double uniforms keep 53 bits of a 64-bit draw made from two 32-bit draws (first draw = high word).
    private const ulong DoubleMask = (1UL << 53) - 1;
    private const double DoubleDivisor = 1.0 / (1UL << 53);
    private const int BlockSize = 16;

    private readonly Mt19937 _engine;
    // torch caches the second Box–Muller value of its scalar (double) normal path in the generator;
    // manual_seed clears it, and only the < 16-element path reads or writes it.
    private double? _nextDoubleNormal;

    public TorchGenerator(ulong seed)
    {
        Seed = seed;
        _engine = new Mt19937(seed);
    }

    /// <summary>The seed as given; torch (and so this class) uses only its low 32 bits for mt19937.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> like one <c>torch.randn([destination.Length])</c> call (any shape with that
    /// element count gives the same C-order values), advancing the generator exactly as torch does.
    /// </summary>
    public void FillNormal(Span<float> destination)
    {
        if (destination.Length >= BlockSize)
        {
            FillNormalVectorPath(destination);
        }
        else
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = (float)NextDoubleNormal();
        }
    }

    /// <summary>
    /// diffusers' <c>randn_tensor</c> with a list of generators: the batch dimension is split into
    /// <c>generators.Count</c> equal chunks and chunk <c>i</c> is one <c>randn</c> draw from generator <c>i</c>.
    /// With one generator this is a single <see cref="FillNormal(Span{float})"/> call over the whole span.
    /// </summary>
    public static void FillNormal(IReadOnlyList<TorchGenerator> generators, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(generators);
        if (generators.Count == 0) throw new ArgumentException("At least one generator is needed.", nameof(generators));
        if (destination.Length % generators.Count != 0)
        {
            throw new ArgumentException(
                $"{destination.Length} values cannot be split evenly between {generators.Count} generators (one per batch item).",
                nameof(destination));
        }
        var chunk = destination.Length / generators.Count;
        for (var i = 0; i < generators.Count; i++) generators[i].FillNormal(destination.Slice(i * chunk, chunk));
    }

    /// <summary>One float32 uniform in [0, 1), as <c>at::uniform_real_distribution&lt;float&gt;</c> makes it.</summary>
    internal float NextFloatUniform() => (_engine.NextUInt32() & FloatMask) * FloatDivisor;

    /// <summary>One float64 uniform in [0, 1), as <c>at::uniform_real_distribution&lt;double&gt;</c> makes it.</summary>
    internal double NextDoubleUniform()
    {
        ulong hi = _engine.NextUInt32();
        ulong lo = _engine.NextUInt32();
        return (((hi << 32) | lo) & DoubleMask) * DoubleDivisor;
    }

    // at::native normal_fill: all uniforms first, then Box–Muller per block of 16 in float32.
    private void FillNormalVectorPath(Span<float> data)
    {
        for (var i = 0; i < data.Length; i++) data[i] = NextFloatUniform();
        for (var i = 0; i + BlockSize <= data.Length; i += BlockSize) BoxMuller16(data.Slice(i, BlockSize));
        if (data.Length % BlockSize != 0)
        {
            // torch recomputes the last 16 values (overlapping the previous block) from 16 fresh uniforms.
            var tail = data[^BlockSize..];
            for (var i = 0; i < BlockSize; i++) tail[i] = NextFloatUniform();
            BoxMuller16(tail);
        }
    }

    private static void BoxMuller16(Span<float> block)
    {
        for (var j = 0; j < 8; j++)
        {
            var u1 = 1f - block[j]; // [0, 1) → (0, 1] so the log is finite
            var u2 = block[j + 8];
            var radius = MathF.Sqrt(-2f * MathF.Log(u1));
            var theta = (float)(2.0 * Math.PI * u2); // torch multiplies by pi<double>, then stores a float
            block[j] = radius * MathF.Cos(theta);
            block[j + 8] = radius * MathF.Sin(theta);
        }
    }

    // at::normal_distribution<double>: Box–Muller on two double uniforms, caching the sine value for the next call.
    private double NextDoubleNormal()
    {
        if (_nextDoubleNormal is { } cached)
        {
            _nextDoubleNormal = null;
            return cached;
        }
        var u1 = NextDoubleUniform();
        var u2 = NextDoubleUniform();
        var r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        var theta = 2.0 * Math.PI * u1;
        _nextDoubleNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }
}
