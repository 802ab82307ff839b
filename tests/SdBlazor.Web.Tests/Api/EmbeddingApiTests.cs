using System.Net;
using System.Text.Json;
using Onnx;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Engine.Tokenization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// Textual inversions through <c>/sdapi/v1/txt2img</c> with the JSON A1111 clients send, on the embedded default model.
/// The independent reference: an embedding whose vectors are the model's own token-table rows for "red cat" must give
/// exactly the image the words "red cat" give (the text encoder then sees the same token embeddings), with emphasis too.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class EmbeddingApiTests
{
    private static byte[] Pixels(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    /// <summary>Rows of the default model's token table (fp16 initializer, widened as its Cast does).</summary>
    private static float[] TokenRows(IReadOnlyList<int> ids, out int width)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(DefaultModel.Folder, "text_encoder", "model.onnx")));
        var table = model.Graph.Initializer.Single(i => i.Name == "te.token_embedding.weight_fp16");
        Assert.Equal((int)TensorProto.Types.DataType.Float16, table.DataType);
        width = (int)table.Dims[1];
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(table.RawData.Span);
        var rows = new float[ids.Count * width];
        for (var r = 0; r < ids.Count; r++)
            for (var c = 0; c < width; c++) rows[r * width + c] = (float)halves[ids[r] * width + c];
        return rows;
    }

    [Fact]
    public async Task An_embedding_of_the_words_own_vectors_gives_their_image_and_others_are_reported()
    {
        using var factory = new SdApiFactory();
        var folder = Directory.CreateDirectory(Path.Combine(factory.ModelsPath, "embeddings")).FullName;
        var tokenizer = ClipTokenizer.Load(Path.Combine(DefaultModel.Folder, "tokenizer"));
        var words = tokenizer.EncodeTokens("red cat");
        var rows = TokenRows(words, out var width);
        SafetensorsWriter.Write(Path.Combine(folder, "kitty-style.safetensors"), [new TestTensor("emb_params", "F32", [words.Count, width], rows)], new Dictionary<string, string> { ["step"] = "500" });
        var random = new Random(30);
        SafetensorsWriter.Write(Path.Combine(folder, "noise-style.safetensors"),
            [new TestTensor("string_to_param.*", "F32", [3, width], [.. Enumerable.Range(0, 3 * width).Select(_ => (float)random.NextDouble() - 0.5f)])]);
        SafetensorsWriter.Write(Path.Combine(folder, "sd15-hands.safetensors"), [new TestTensor("emb_params", "F32", [2, 768], new float[2 * 768])]);
        File.WriteAllBytes(Path.Combine(folder, "pickled.pt"), [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
        SafetensorsWriter.WriteRaw(Path.Combine(folder, "broken.safetensors"), """{"emb_params":{"dtype":"F32","shape":[4000000,4000000],"data_offsets":[0,8]}}""", new byte[8]);
        var api = factory.Api();

        async Task<ApiReply> Txt2Img(string prompt, string negative = "")
        {
            var body = JsonSerializer.Serialize(new { prompt, negative_prompt = negative, seed = 7, steps = 4, cfg_scale = 7, width = 64, height = 64, sampler_name = "Euler a", batch_size = 1, n_iter = 1 });
            var reply = await api.PostJsonAsync("/sdapi/v1/txt2img", body);
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            return reply;
        }

        var words1 = await Txt2Img("a red cat on grass");
        var embedded = await Txt2Img("a kitty-style on grass");
        Assert.Equal(Pixels(words1.Images[0]), Pixels(embedded.Images[0]));
        Assert.False(embedded.Info.TryGetProperty("warnings", out _));
        Assert.Equal("a kitty-style on grass", embedded.Info.GetProperty("prompt").GetString());

        // Emphasis weighs an embedding's slots as it weighs the words; in the negative prompt it works the same way.
        var weightedWords = await Txt2Img("a (red cat:1.4) on grass", "blurry");
        var weightedEmbedding = await Txt2Img("a (kitty-style:1.4) on grass", "blurry");
        Assert.Equal(Pixels(weightedWords.Images[0]), Pixels(weightedEmbedding.Images[0]));
        Assert.NotEqual(Pixels(words1.Images[0]), Pixels(weightedWords.Images[0]));
        var negativeWords = await Txt2Img("a dog", "red cat");
        var negativeEmbedding = await Txt2Img("a dog", "KITTY-STYLE");
        Assert.Equal(Pixels(negativeWords.Images[0]), Pixels(negativeEmbedding.Images[0]));

        var noise = await Txt2Img("a noise-style on grass");
        Assert.NotEqual(Pixels(words1.Images[0]), Pixels(noise.Images[0]));

        // An SD 1.5 embedding (768 wide) on this 128-wide model: the image is made, the name read as words, and info says so.
        var wrong = await Txt2Img("a sd15-hands on grass");
        var warning = Assert.Single(wrong.Info.GetProperty("warnings").EnumerateArray()).GetString();
        Assert.Contains("'sd15-hands' (768 wide)", warning);
        Assert.Contains($"{width} wide", warning);

        var listed = (await api.GetJsonAsync("/sdapi/v1/embeddings")).Body;
        var loaded = listed.GetProperty("loaded");
        Assert.Equal(["kitty-style", "noise-style"], loaded.EnumerateObject().Select(p => p.Name));
        var kitty = loaded.GetProperty("kitty-style");
        Assert.Equal((width, words.Count, 500), (kitty.GetProperty("shape").GetInt32(), kitty.GetProperty("vectors").GetInt32(), kitty.GetProperty("step").GetInt32()));
        Assert.Equal(JsonValueKind.Null, kitty.GetProperty("sd_checkpoint").ValueKind);
        Assert.Equal(["broken", "pickled", "sd15-hands"], listed.GetProperty("skipped").EnumerateObject().Select(p => p.Name));
        Assert.Equal(768, listed.GetProperty("skipped").GetProperty("sd15-hands").GetProperty("shape").GetInt32());
    }

    [Fact]
    public async Task An_sdxl_embedding_named_in_an_sdxl_prompt_is_reported_as_not_injected()
    {
        using var factory = new SdApiFactory();
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sdxl-tiny"));
        SafetensorsWriter.Write(Path.Combine(factory.ModelsPath, "xl.safetensors"), TestCheckpoints.ForGraphSet(set, "sdxl", new TestCheckpoints.Options(DType: "F16")));
        var folder = Directory.CreateDirectory(Path.Combine(factory.ModelsPath, "embeddings")).FullName;
        SafetensorsWriter.Write(Path.Combine(folder, "xl-style.safetensors"),
            [new TestTensor("clip_l", "F32", [2, 16], new float[2 * 16]), new TestTensor("clip_g", "F32", [2, 32], new float[2 * 32])]);
        // Made for real SDXL (768 + 1280): another width than the tiny graph set's 16 + 32.
        SafetensorsWriter.Write(Path.Combine(folder, "real-xl.safetensors"),
            [new TestTensor("clip_l", "F32", [1, 768], new float[768]), new TestTensor("clip_g", "F32", [1, 1280], new float[1280])]);
        var api = factory.Api();
        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
            """{"prompt": "a xl-style castle", "negative_prompt": "", "steps": 1, "cfg_scale": 5, "seed": 7, "override_settings": {"sd_model_checkpoint": "xl"}}""");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Contains("'xl-style' are not injected into SDXL prompts yet", Assert.Single(reply.Info.GetProperty("warnings").EnumerateArray()).GetString());
        // Listed by the SDXL model's widths (CLIP-L + bigG of the tiny graph set: 16 + 32), as A1111 lists clip_l + clip_g.
        var listed = (await api.GetJsonAsync("/sdapi/v1/embeddings")).Body;
        var embedding = listed.GetProperty("loaded").GetProperty("xl-style");
        Assert.Equal((48, 2), (embedding.GetProperty("shape").GetInt32(), embedding.GetProperty("vectors").GetInt32()));
        Assert.Equal(2048, listed.GetProperty("skipped").GetProperty("real-xl").GetProperty("shape").GetInt32());
    }
}
