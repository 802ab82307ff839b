using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Tests.Fixtures;

namespace SdBlazor.Engine.Tests.Randomness;

public class TorchGeneratorTests
{
    public static TheoryData<ulong, int> GoldenDraws()
    {
        var data = new TheoryData<ulong, int>();
        foreach (var r in GoldenFixtures.Randn.Records) data.Add(r.Seed, r.Numel);
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenDraws))]
    public void FillNormal_matches_torch_randn(ulong seed, int numel)
    {
        var golden = GoldenFixtures.Randn.Records.Single(r => r.Seed == seed && r.Numel == numel);
        var values = new float[numel];

        new TorchGenerator(seed).FillNormal(values);

        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(golden.First16[i], values[i], 1e-5);
            Assert.Equal(golden.Last16[i], values[numel - 16 + i], 1e-5);
        }
        var sum = values.Sum(v => (double)v);
        Assert.Equal(golden.Sum, sum, 1e-5 * numel);
    }

    [Fact]
    public void Successive_draws_continue_the_generator_like_successive_torch_calls()
    {
        // 256 is a whole number of 16-blocks, so two randn(256) calls consume exactly what one randn(512) does.
        var whole = new float[512];
        new TorchGenerator(7).FillNormal(whole);

        var generator = new TorchGenerator(7);
        var first = new float[256];
        var second = new float[256];
        generator.FillNormal(first);
        generator.FillNormal(second);

        Assert.Equal(whole[..256], first);
        Assert.Equal(whole[256..], second);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Tail_that_is_not_a_multiple_of_16_is_redrawn_from_fresh_uniforms()
    {
        var aligned = new float[32];
        new TorchGenerator(3).FillNormal(aligned);
        var ragged = new float[40];
        new TorchGenerator(3).FillNormal(ragged);

        // The first two full blocks come from the same uniforms …
        Assert.Equal(aligned[..24], ragged[..24]);
        // … but torch recomputes the last 16 values from 16 new uniforms, overwriting part of block 2.
        Assert.NotEqual(aligned[24..32], ragged[24..32]);
    }

    [Fact]
    public void Small_tensors_use_torchs_scalar_double_path()
    {
        // torch.manual_seed(0); torch.randn(5) → [1.5410, -0.2934, -2.1788, 0.5684, -1.0845] (well-known values).
        var values = new float[5];
        new TorchGenerator(0).FillNormal(values);

        float[] expected = [1.5410f, -0.2934f, -2.1788f, 0.5684f, -1.0845f];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], values[i], 1e-4f);
    }

    [Fact]
    public void Scalar_path_caches_the_second_box_muller_value_across_calls()
    {
        var six = new float[6];
        new TorchGenerator(11).FillNormal(six);

        var generator = new TorchGenerator(11);
        var five = new float[5];
        var one = new float[1];
        generator.FillNormal(five);
        generator.FillNormal(one); // the cached sine of the third pair, no new draw

        Assert.Equal(six[..5], five);
        Assert.Equal(six[5], one[0]);
    }

    [Fact]
    public void Seed_uses_the_low_32_bits_like_torch()
    {
        var a = new float[16];
        var b = new float[16];
        new TorchGenerator(42).FillNormal(a);
        new TorchGenerator((1UL << 32) + 42).FillNormal(b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Generator_list_draws_one_chunk_per_batch_item()
    {
        var batch = new float[2 * 256];
        TorchGenerator.FillNormal([new TorchGenerator(0), new TorchGenerator(42)], batch);

        var seed0 = GoldenFixtures.Randn.Records.Single(r => r.Seed == 0 && r.Numel == 256);
        var seed42 = GoldenFixtures.Randn.Records.Single(r => r.Seed == 42 && r.Numel == 256);
        Assert.Equal(seed0.First16[0], batch[0], 1e-5);
        Assert.Equal(seed42.First16[0], batch[256], 1e-5);
        Assert.Throws<ArgumentException>(() => TorchGenerator.FillNormal([new TorchGenerator(0), new TorchGenerator(1), new TorchGenerator(2)], batch));
    }
}
