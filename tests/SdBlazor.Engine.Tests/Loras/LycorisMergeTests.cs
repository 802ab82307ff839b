using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Loras;

/// <summary>
/// LoHa, LoKr (full and factorised factors, linear and 3×3 conv) and DoRA (both magnitude layouts) merged into the
/// tiny SD 1.5 checkpoint through the engine, each against the formula written out here in plain loops over the
/// weights' own 2-D/4-D indices (double accumulation): LoHa (w1a·w1b)⊙(w2a·w2b)·α/r, LoKr kron(w1, w2)[a·o2+b, x·i2+y,
/// e, f] = w1[a, x]·w2[b, y, e, f], DoRA W + m·(mag·W'/‖W'‖ − W) with W' = W + scale·ΔW.
/// </summary>
public sealed class LycorisMergeTests : IDisposable
{
    private const float Te = 0.8f, UNet = 1.2f;
    private readonly CheckpointHarness _h = new();
    private readonly Random _random = new(31);
    private readonly List<TestTensor> _tensors = [];

    public void Dispose() => _h.Dispose();

    private float[] Tensor(string name, long[] shape, float scale = 0.5f, float offset = 0f)
    {
        var values = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, d) => a * d)).Select(_ => offset + (float)(_random.NextDouble() * 2 - 1) * scale).ToArray();
        _tensors.Add(new TestTensor(name, "F32", shape, values));
        return values;
    }

    private void Alpha(string module, float alpha) => _tensors.Add(new TestTensor(module + ".alpha", "F32", [], [alpha]));

    private static double[] Matmul(float[] a, float[] b, int rows, int rank, int columns)
    {
        var result = new double[rows * columns];
        for (var o = 0; o < rows; o++)
            for (var i = 0; i < columns; i++)
                for (var k = 0; k < rank; k++) result[o * columns + i] += (double)a[o * rank + k] * b[k * columns + i];
        return result;
    }

    /// <summary>W + m·(mag ⊙ W'/‖W'‖ − W), the norm per output row or per input channel (over rows and kernel).</summary>
    private static double[] Dora(float[] w, double[] merged, float[] magnitude, bool perOutput, int rows, int inChannels, int kernel, float m)
    {
        var columns = inChannels * kernel;
        var norms = new double[perOutput ? rows : inChannels];
        for (var o = 0; o < rows; o++)
            for (var i = 0; i < inChannels; i++)
                for (var q = 0; q < kernel; q++)
                {
                    var v = merged[o * columns + i * kernel + q];
                    norms[perOutput ? o : i] += v * v;
                }
        var result = new double[w.Length];
        for (var o = 0; o < rows; o++)
            for (var i = 0; i < inChannels; i++)
                for (var q = 0; q < kernel; q++)
                {
                    var at = o * columns + i * kernel + q;
                    var n = perOutput ? o : i;
                    result[at] = w[at] + m * (magnitude[n] * merged[at] / (Math.Sqrt(norms[n]) + 1.1920929e-7) - w[at]);
                }
        return result;
    }

    [Fact]
    public async Task LoHa_LoKr_and_DoRA_merge_as_their_formulas_and_tucker_forms_are_reported()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sd15-tiny.safetensors"), Path.Combine(_h.ModelsPath, "base.safetensors"));
        _h.Engine.Engine.RefreshModels();
        var set = _h.Set("sd15-tiny");
        var expected = new List<(string Component, string Key, Func<float[], double[]> Merge)>();

        // LoHa on a linear weight kept transposed by the graph: [32, 32], rank 4, α 2.
        const string toQ = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
        var (h1a, h1b, h2a, h2b) = (Tensor(toQ + ".hada_w1_a", [32, 4]), Tensor(toQ + ".hada_w1_b", [4, 32]), Tensor(toQ + ".hada_w2_a", [32, 4]), Tensor(toQ + ".hada_w2_b", [4, 32]));
        Alpha(toQ, 2f);
        expected.Add(("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", w =>
        {
            var (p, q) = (Matmul(h1a, h1b, 32, 4, 32), Matmul(h2a, h2b, 32, 4, 32));
            return [.. w.Select((v, i) => v + UNet * 2.0 / 4 * p[i] * q[i])];
        }));

        // LoHa on a 3×3 conv [32, 4, 3, 3] with 4-D w_b factors, rank 2, α 2, and DoRA with an input-channel magnitude [1, 4, 1, 1].
        var (c1a, c1b, c2a, c2b) = (Tensor("lora_unet_conv_in.hada_w1_a", [32, 2]), Tensor("lora_unet_conv_in.hada_w1_b", [2, 4, 3, 3]),
            Tensor("lora_unet_conv_in.hada_w2_a", [32, 2]), Tensor("lora_unet_conv_in.hada_w2_b", [2, 4, 3, 3]));
        Alpha("lora_unet_conv_in", 2f);
        var inMagnitude = Tensor("lora_unet_conv_in.dora_scale", [1, 4, 1, 1], 0.3f, 1.2f);
        expected.Add(("unet", "conv_in.weight", w =>
        {
            var (p, q) = (Matmul(c1a, c1b, 32, 2, 36), Matmul(c2a, c2b, 32, 2, 36));
            return Dora(w, [.. w.Select((v, i) => v + 1.0 * p[i] * q[i])], inMagnitude, perOutput: false, 32, 4, 9, UNet);
        }));

        // LoKr on a transposed linear [32, 128]: full w1 [4, 8] ⊗ factorised w2 = [8, 2]·[2, 16]; α 1 / rank 2.
        const string ff = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2";
        var (k1, k2a, k2b) = (Tensor(ff + ".lokr_w1", [4, 8]), Tensor(ff + ".lokr_w2_a", [8, 2]), Tensor(ff + ".lokr_w2_b", [2, 16]));
        Alpha(ff, 1f);
        expected.Add(("unet", "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight", w =>
        {
            var w2 = Matmul(k2a, k2b, 8, 2, 16);
            var result = w.Select(v => (double)v).ToArray();
            for (var a = 0; a < 4; a++) for (var b = 0; b < 8; b++) for (var x = 0; x < 8; x++) for (var y = 0; y < 16; y++)
                result[(a * 8 + b) * 128 + x * 16 + y] += UNet * 0.5 * k1[a * 8 + x] * w2[b * 16 + y];
            return result;
        }));

        // LoKr on a 3×3 conv [32, 64, 3, 3]: factorised w1 = [2, 1]·[1, 4] ⊗ full 4-D w2 [16, 16, 3, 3]; α 0.5 / rank 1.
        const string conv = "lora_unet_up_blocks_1_resnets_0_conv1";
        var (k1a, k1b, k2) = (Tensor(conv + ".lokr_w1_a", [2, 1]), Tensor(conv + ".lokr_w1_b", [1, 4]), Tensor(conv + ".lokr_w2", [16, 16, 3, 3]));
        Alpha(conv, 0.5f);
        expected.Add(("unet", "up_blocks.1.resnets.0.conv1.weight", w =>
        {
            var result = w.Select(v => (double)v).ToArray();
            for (var a = 0; a < 2; a++) for (var b = 0; b < 16; b++) for (var x = 0; x < 4; x++) for (var y = 0; y < 16; y++)
                for (var e = 0; e < 3; e++) for (var f = 0; f < 3; f++)
                    result[(((a * 16 + b) * 64 + x * 16 + y) * 3 + e) * 3 + f] += UNet * 0.5 * k1a[a] * k1b[x] * k2[((b * 16 + y) * 3 + e) * 3 + f];
            return result;
        }));

        // Plain LoRA with DoRA, output-row magnitudes: text encoder q_proj [16, 16] (transposed) with [16, 1], conv [32, 32, 3, 3] with [32, 1, 1, 1].
        const string q = "lora_te_text_model_encoder_layers_0_self_attn_q_proj";
        var (qDown, qUp, qMag) = (Tensor(q + ".lora_down.weight", [4, 16]), Tensor(q + ".lora_up.weight", [16, 4]), Tensor(q + ".dora_scale", [16, 1], 0.3f, 1.5f));
        Alpha(q, 2f);
        expected.Add(("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj.weight", w =>
        {
            var d = Matmul(qUp, qDown, 16, 4, 16);
            return Dora(w, [.. w.Select((v, i) => v + 0.5 * d[i])], qMag, perOutput: true, 16, 16, 1, Te);
        }));
        const string res = "lora_unet_down_blocks_0_resnets_0_conv1";
        var (rDown, rUp, rMag) = (Tensor(res + ".lora_down.weight", [4, 32, 3, 3]), Tensor(res + ".lora_up.weight", [32, 4, 1, 1]), Tensor(res + ".dora_scale", [32, 1, 1, 1], 0.3f, 2f));
        expected.Add(("unet", "down_blocks.0.resnets.0.conv1.weight", w =>
        {
            var d = Matmul(rUp, rDown, 32, 4, 288);
            return Dora(w, [.. w.Select((v, i) => v + 1.0 * d[i])], rMag, perOutput: true, 32, 32, 9, UNet);
        }));

        // Tucker LoHa (hada_t1/t2) is not merged: reported, its target left as it was.
        const string tucker = "lora_unet_down_blocks_0_attentions_0_proj_in";
        foreach (var (part, shape) in new (string, long[])[] { ("hada_w1_a", [32, 2]), ("hada_w1_b", [2, 32]), ("hada_w2_a", [32, 2]), ("hada_w2_b", [2, 32]), ("hada_t1", [2, 2, 1, 1]), ("hada_t2", [2, 2, 1, 1]) })
            Tensor($"{tucker}.{part}", shape);

        Directory.CreateDirectory(Path.Combine(_h.ModelsPath, "Lora"));
        SafetensorsWriter.Write(Path.Combine(_h.ModelsPath, "Lora", "ly.safetensors"), _tensors);

        using var plain = await _h.Engine.Engine.GenerateAsync(Request("a red cat"), null, CancellationToken.None);
        using var merged = await _h.Engine.Engine.GenerateAsync(Request($"a red cat <lyco:ly:{Te}:{UNet}>"), null, CancellationToken.None);
        var warning = Assert.Single(merged.Parameters.Warnings);
        Assert.Contains("1 module(s) are not a form SdBlazor merges", warning);
        Assert.Contains("hada_t1", warning);

        var converted = Assert.Single(Directory.GetDirectories(_h.CachePath, "base-*"));
        var variant = Assert.Single(Directory.GetDirectories(Path.Combine(_h.CachePath, "loras"), "base-*"));
        foreach (var (component, key, merge) in expected)
        {
            var tensor = set.Manifests[component].Tensors.Single(t => t.Key == key);
            var before = LoraMergeTests.KeyLayout(converted, component, tensor);
            var after = LoraMergeTests.KeyLayout(variant, component, tensor);
            var reference = merge(before);
            var worst = reference.Select((v, i) => Math.Abs(v - after[i]) / Math.Max(1, Math.Abs(v))).Max();
            Assert.True(worst < 1e-5, $"{key}: largest difference {worst}");
            Assert.True(before.Select((v, i) => Math.Abs(v - after[i])).Max() > 1e-3, $"{key} did not change");
        }
        var untouched = set.Manifests["unet"].Tensors.Single(t => t.Key == "down_blocks.0.attentions.0.proj_in.weight");
        Assert.Equal(LoraMergeTests.KeyLayout(converted, "unet", untouched), LoraMergeTests.KeyLayout(variant, "unet", untouched));
    }

    private static GenerationRequest Request(string prompt) => new()
    {
        Prompt = prompt, NegativePrompt = "", Seed = 3, Steps = 2, CfgScale = 7, Model = "base", Sampler = "Euler",
    };
}
