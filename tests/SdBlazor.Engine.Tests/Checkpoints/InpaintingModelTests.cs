using System.Text.Json.Nodes;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// 9-channel inpainting UNets (issue 32): the tiny <c>sd15-inpainting</c> checkpoint (Fixtures/checkpoints, fp16, made
/// by tools/make_checkpoints) imports into its graph set, and what the pipeline feeds its UNet — scaled latents ++
/// rounded mask ++ VAE latents of the masked image (A1111's <c>inpainting_image_conditioning</c>) — and what the UNet
/// returns equal the torch modules' values for the same weights (reference/sd15-inpainting-tiny-pipeline.json).
/// </summary>
public sealed class InpaintingModelTests : IDisposable
{
    private const string Name = "sd15-inpainting-tiny";
    private readonly CheckpointHarness _h = new();
    private readonly JsonNode _reference = JsonNode.Parse(File.ReadAllText(Fixture(Path.Combine("reference", Name + "-pipeline.json"))))!;

    public InpaintingModelTests()
    {
        File.Copy(Fixture(Name + ".safetensors"), Path.Combine(_h.ModelsPath, Name + ".safetensors"));
        _h.Engine.Engine.RefreshModels();
    }

    public void Dispose() => _h.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", name);

    private int Size => _reference["size"]!.GetValue<int>();

    private float[] Floats(JsonNode node) => node.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    private byte[] ImagePng()
    {
        var rgb = _reference["image_rgb"]!.AsArray().Select(v => (byte)v!.GetValue<int>()).ToArray();
        using var image = Image.LoadPixelData<Rgb24>(rgb, Size, Size);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private byte[] MaskPng()
    {
        var mask = _reference["mask"]!.AsArray().Select(v => (byte)v!.GetValue<int>()).ToArray();
        using var image = Image.LoadPixelData<L8>(mask, Size, Size);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private GenerationRequest Request(bool inpaint, double maskWeight = 1) => new()
    {
        Prompt = "a photo", Seed = 3, Steps = 2, CfgScale = 5, Model = Name, Sampler = "Euler", Width = Size, Height = Size,
        InitImage = inpaint ? ImagePng() : null, Mask = inpaint ? MaskPng() : null, MaskBlur = 0, InpaintingFill = 1,
        Strength = 1, InpaintingMaskWeight = maskWeight,
    };

    /// <summary>Runs <paramref name="request"/> and returns the first UNet input (rows [uncond, cond] of 9 channels) and the image.</summary>
    private string _infotext = "";

    private async Task<(float[] Sample, Image<Rgb24> Image)> FirstUNetInput(GenerationRequest request)
    {
        // A first run loads the model so that the observer can be attached to its UNet.
        using (await _h.Engine.Engine.GenerateAsync(request with { Steps = 1 }, null, CancellationToken.None)) { }
        var unet = _h.Engine.Engine.Resident!.UNet;
        Assert.Equal(9, unet.InChannels);
        float[]? first = null;
        unet.InputObserver = (sample, _) => first ??= sample.ToArray();
        try
        {
            using var result = await _h.Engine.Engine.GenerateAsync(request, null, CancellationToken.None);
            _infotext = SdBlazor.Engine.Imaging.Infotext.Format(SdBlazor.Engine.Imaging.ResolvedParametersExtensions.ToImageParameters(result.Parameters, 3));
            return (first!, result.Images[0].Image.Clone());
        }
        finally
        {
            unet.InputObserver = null;
        }
    }

    /// <param name="tolerance">
    /// 1e-4 is 2 % of the largest latent here and 1/50 of what mask strength 1 vs 0.5 changes. The empty image of txt2img
    /// is constant, so the VAE's first GroupNorm divides rounding noise by √eps: ORT and torch differ by up to 5e-3 there.
    /// </param>
    private void AssertConditioning(float[] sample, string caseName, float tolerance = 1e-4f)
    {
        var expected = Floats(_reference["cases"]![caseName]!["conditioning"]!);
        var plane = Size / 8 * (Size / 8);
        Assert.Equal(2 * 9 * plane, sample.Length);
        for (var row = 0; row < 2; row++)
        {
            var actual = sample.AsSpan(row * 9 * plane + 4 * plane, 5 * plane);
            var max = 0f;
            for (var i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
            Assert.True(max <= tolerance, $"{caseName} row {row}: conditioning differs from torch by up to {max}");
            Assert.Equal(expected[..plane], actual[..plane].ToArray()); // the mask: exactly 0 or 1
        }
    }

    [Theory]
    [InlineData(1.0, "inpaint_weight_1")]
    [InlineData(0.5, "inpaint_weight_0.5")]
    public async Task The_pipeline_feeds_the_UNet_the_mask_and_masked_image_latents_torch_computes(double weight, string caseName)
    {
        var (sample, image) = await FirstUNetInput(Request(inpaint: true, weight));
        using (image)
        {
            AssertConditioning(sample, caseName);
            Assert.Contains($"Conditional mask weight: {weight.ToString(System.Globalization.CultureInfo.InvariantCulture)}", _infotext);
            // The unmasked area comes back exactly (overlay with the unblurred mask), the masked one is repainted.
            using var original = Image.Load<Rgb24>(ImagePng());
            var rect = _reference["rect"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            int kept = 0, changed = 0;
            for (var y = 0; y < Size; y++)
                for (var x = 0; x < Size; x++)
                {
                    var inside = x >= rect[0] && x < rect[2] && y >= rect[1] && y < rect[3];
                    if (!inside) Assert.Equal(original[x, y], image[x, y]);
                    else if (!original[x, y].Equals(image[x, y])) changed++;
                    else kept++;
                }
            Assert.True(changed > kept, $"masked area: {changed} pixels changed, {kept} equal");
        }
    }

    [Fact]
    public async Task Txt2img_with_an_inpainting_model_conditions_on_an_empty_image_under_a_full_mask()
    {
        var (sample, image) = await FirstUNetInput(Request(inpaint: false));
        image.Dispose();
        AssertConditioning(sample, "txt2img", 1e-2f);
        var plane = Size / 8 * (Size / 8);
        Assert.All(sample.AsSpan(4 * plane, plane).ToArray(), m => Assert.Equal(1f, m));
    }

    [Fact]
    public async Task The_9_channel_UNet_output_matches_torch()
    {
        using (await _h.Engine.Engine.GenerateAsync(Request(inpaint: false) with { Steps = 1 }, null, CancellationToken.None)) { }
        var unet = _h.Engine.Engine.Resident!.UNet;
        var latents = Floats(_reference["latents"]!);
        var hidden = Floats(_reference["hidden"]!);
        var latentSize = Size / 8;
        foreach (var (name, node) in _reference["cases"]!.AsObject())
        {
            unet.Prepare(1, 4, latentSize, latentSize, 77, hidden.Length / 77);
            latents.CopyTo(unet.Sample);
            Floats(node!["conditioning"]!).CopyTo(unet.Sample[latents.Length..]);
            hidden.CopyTo(unet.EncoderHiddenStates);
            unet.UploadHiddenStates();
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            unet.Run(_reference["timestep"]!.GetValue<float>(), runOptions);
            var expected = Floats(node["out_sample"]!);
            var max = 0f;
            for (var i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(unet.Output[i] - expected[i]));
            Assert.True(max <= 1e-4f, $"{name}: UNet output differs from torch by up to {max}");
        }
    }

    [Fact]
    public void The_channel_count_is_read_from_the_first_convolution_when_the_input_axis_says_nothing()
    {
        var library = _h.Engine.Registry.Checkpoints;
        var folder = library.Prepare(library.Describe(Path.Combine(_h.ModelsPath, Name + ".safetensors")), null, CancellationToken.None);
        Assert.Equal(9, OnnxFileInspector.FirstConvInputChannels(folder.UNetPath, "sample"));
        Assert.Equal(4, OnnxFileInspector.FirstConvInputChannels(Path.Combine(_h.Set("sd15-tiny").GraphPath("unet")), "sample"));
        Assert.Null(OnnxFileInspector.FirstConvInputChannels(folder.UNetPath, "no_such_input"));
    }

    [Fact]
    public async Task A_diffusers_onnx_inpainting_folder_inpaints_too()
    {
        // The converted checkpoint is an ordinary diffusers-ONNX folder: copied into the models folder under another
        // name (no manifest, nothing to convert), it loads as a folder model and takes the 9-channel path.
        var library = _h.Engine.Registry.Checkpoints;
        var converted = library.Prepare(library.Describe(Path.Combine(_h.ModelsPath, Name + ".safetensors")), null, CancellationToken.None);
        var target = Path.Combine(_h.ModelsPath, "inpaint-folder");
        foreach (var file in Directory.EnumerateFiles(converted.Path, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(converted.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        _h.Engine.Engine.RefreshModels();
        var (sample, image) = await FirstUNetInput(Request(inpaint: true) with { Model = "inpaint-folder" });
        image.Dispose();
        AssertConditioning(sample, "inpaint_weight_1");
    }
}
