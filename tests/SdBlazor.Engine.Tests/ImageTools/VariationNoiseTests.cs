using SdBlazor.Engine.Randomness;
using static SdBlazor.Engine.Tests.ImageTools.ImageToolsGoldens;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>A1111's variation seeds (ImageRNG.first + slerp) against torch-computed goldens.</summary>
public class VariationNoiseTests
{
    public static TheoryData<int> Cases() => [0, 1, 2, 3];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Noise_matches_A1111_computed_with_torch(int index)
    {
        var golden = Get("variation")[index];
        var seed = golden.GetProperty("seed").GetInt64();
        var shape = golden.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var resize = golden.GetProperty("resize_from_hw");
        var settings = new VariationSettings(golden.GetProperty("strength").GetDouble(),
            resize.ValueKind == System.Text.Json.JsonValueKind.Null ? 0 : resize[1].GetInt32(),
            resize.ValueKind == System.Text.Json.JsonValueKind.Null ? 0 : resize[0].GetInt32());
        var destination = new float[shape[0] * shape[1] * shape[2]];

        VariationNoise.Fill(new TorchGenerator((ulong)seed), seed, golden.GetProperty("subseed").GetInt64(), settings,
            shape[0], shape[1], shape[2], destination);

        AssertClose(Floats(golden.GetProperty("values")), destination, 2e-5f, $"case {index}");
    }

    [Fact]
    public void Near_parallel_noises_take_A1111s_lerp_fallback()
    {
        var golden = Get("parallel");
        var destination = new float[4 * 8 * 8];
        VariationNoise.Slerp(golden.GetProperty("val").GetDouble(), Floats(golden.GetProperty("low")), Floats(golden.GetProperty("high")), 4, 8, 8, destination);
        AssertClose(Floats(golden.GetProperty("values")), destination, 1e-5f, "parallel");
    }

    [Fact]
    public void Slerp_normalises_per_channel_and_column()
    {
        // Independent check of the axis: scaling one column of `low` must not change any other column's result.
        var low = new float[2 * 3 * 4];
        var high = new float[low.Length];
        new TorchGenerator(1).FillNormal(low);
        new TorchGenerator(2).FillNormal(high);
        var a = new float[low.Length];
        VariationNoise.Slerp(0.4, low, high, 2, 3, 4, a);
        var scaled = (float[])low.Clone();
        for (var y = 0; y < 3; y++) scaled[y * 4 + 1] *= 5; // channel 0, column 1
        var b = new float[low.Length];
        VariationNoise.Slerp(0.4, scaled, high, 2, 3, 4, b);
        for (var i = 0; i < a.Length; i++)
        {
            var column = i % 4;
            var channel = i / 12;
            if (channel == 0 && column == 1) continue;
            Assert.Equal(a[i], b[i], 1e-6f);
        }
    }

    [Fact]
    public void Strength_zero_without_resize_is_the_plain_seed_noise()
    {
        var expected = new float[256];
        new TorchGenerator(42).FillNormal(expected);
        var actual = new float[256];
        VariationNoise.Fill(new TorchGenerator(42), 42, 9, new VariationSettings(0, 0, 0), 4, 8, 8, actual);
        Assert.Equal(expected, actual);
    }
}
