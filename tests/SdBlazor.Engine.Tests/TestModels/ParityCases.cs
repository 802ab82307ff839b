using System.Text.Json;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.TestModels;

/// <summary>Reference cases: <c>name.json</c> (the request; img2img adds <c>init_image</c> and <c>strength</c>) + <c>name.png</c> (the image torch made for it).</summary>
public static class ParityCases
{
    /// <summary>Runs every case in <paramref name="folder"/>; each image must be within <paramref name="levels"/> 8-bit levels on all but &lt; 1% of its values.</summary>
    public static async Task AssertAllMatch(IGenerationEngine engine, string folder, string? model = null, int levels = 3)
    {
        var cases = Directory.GetFiles(folder, "*.json");
        Assert.NotEmpty(cases);
        foreach (var file in cases)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var c = json.RootElement;
            var request = new GenerationRequest
            {
                Prompt = c.GetProperty("prompt").GetString()!,
                NegativePrompt = c.TryGetProperty("negative_prompt", out var n) ? n.GetString()! : "",
                Seed = c.GetProperty("seed").GetInt64(),
                Steps = c.GetProperty("steps").GetInt32(),
                Sampler = c.GetProperty("sampler").GetString()!,
                CfgScale = c.GetProperty("cfg_scale").GetDouble(),
                Width = c.GetProperty("width").GetInt32(),
                Height = c.GetProperty("height").GetInt32(),
                Model = model,
            };
            if (c.TryGetProperty("init_image", out var init))
            {
                request = request with
                {
                    InitImage = File.ReadAllBytes(Path.Combine(folder, init.GetString()!)),
                    Strength = c.GetProperty("strength").GetDouble(),
                };
            }
            using var result = await engine.GenerateAsync(request, null, CancellationToken.None);
            using var reference = Image.Load<Rgb24>(Path.ChangeExtension(file, ".png"));

            var actual = Bytes(result.Images[0].Image);
            var expected = Bytes(reference);
            Assert.Equal(expected.Length, actual.Length);
            var differences = actual.Zip(expected, (a, e) => Math.Abs(a - e)).ToArray();
            var fraction = (double)differences.Count(d => d > levels) / differences.Length;
            Assert.True(fraction < 0.01,
                $"{Path.GetFileName(file)}: {fraction:P2} of values differ by more than {levels} levels (max {differences.Max()})");
        }
    }

    public static byte[] Bytes(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
