using System.Text;
using SdBlazor.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.Imaging;

public class PngMetadataTests
{
    private static byte[] WritePng(params KeyValuePair<string, string>[] texts)
    {
        using var image = new Image<Rgb24>(8, 8, new Rgb24(10, 20, 30));
        using var ms = new MemoryStream();
        PngTextChunks.WritePng(image, ms, texts);
        return ms.ToArray();
    }

    private static IReadOnlyDictionary<string, string> Read(byte[] png) => PngTextChunks.Read(new MemoryStream(png));

    [Fact]
    public void Latin1_text_is_an_uncompressed_tEXt_chunk_before_the_image_data()
    {
        var value = new string('x', 5000) + " café, naïve"; // long: ImageSharp would compress it by default
        var chunks = PngChunkBytes.Parse(WritePng(KeyValuePair.Create("parameters", value)));

        var text = Assert.Single(chunks, c => c.Type == "tEXt");
        Assert.Equal("parameters\0" + value, Encoding.Latin1.GetString(text.Data));
        Assert.True(chunks.FindIndex(c => c.Type == "tEXt") < chunks.FindIndex(c => c.Type == "IDAT"));
        Assert.DoesNotContain(chunks, c => c.Type is "zTXt" or "iTXt");
    }

    [Fact]
    public void Non_latin_text_is_an_uncompressed_utf8_iTXt_chunk()
    {
        const string value = "猫, 🐱 and ünïcode";
        var chunks = PngChunkBytes.Parse(WritePng(KeyValuePair.Create("parameters", value)));

        var itxt = Assert.Single(chunks, c => c.Type == "iTXt");
        // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
        var expected = Encoding.Latin1.GetBytes("parameters").Concat(new byte[] { 0, 0, 0, 0, 0 }).Concat(Encoding.UTF8.GetBytes(value));
        Assert.Equal(expected, itxt.Data);
        Assert.Equal(value, Read(WritePng(KeyValuePair.Create("parameters", value)))["parameters"]);
    }

    [Fact]
    public void Reads_tEXt_zTXt_and_compressed_iTXt_written_by_other_tools()
    {
        var png = WritePng();
        png = PngChunkBytes.InsertAfterHeader(png, "zTXt", PngChunkBytes.ZTxt("parameters", "a dog\nSteps: 5, Sampler: Euler, Seed: 1"));
        png = PngChunkBytes.InsertAfterHeader(png, "iTXt", PngChunkBytes.ITxtCompressed("workflow", "{\"ü\": \"犬\"}"));
        png = PngChunkBytes.InsertAfterHeader(png, "tEXt", PngChunkBytes.TExt("Software", "Ümlaut tool"));

        var texts = Read(png);

        Assert.Equal("a dog\nSteps: 5, Sampler: Euler, Seed: 1", texts["parameters"]);
        Assert.Equal("{\"ü\": \"犬\"}", texts["workflow"]);
        Assert.Equal("Ümlaut tool", texts["Software"]);
    }

    [Fact]
    public void Our_chunk_round_trips_every_parameter_exactly()
    {
        var parameters = new ImageParameters
        {
            Prompt = "  leading space, \"quotes\", colons: yes\r\nNegative prompt: not really\n\ttab, 中文, Ελληνικά 🐱  ",
            NegativePrompt = "\nStarts with newline, ends with comma,",
            Seed = long.MaxValue,
            Steps = 150,
            CfgScale = 7.123456789,
            Sampler = "DPM++ 2M SDE",
            ScheduleType = "Karras",
            Width = 832,
            Height = 1216,
            Model = "mödel: v1, \"x\"",
            ModelSha256 = new string('a', 64),
            SchedulerConfig = "{\"beta_start\": 0.00085, \"timestep_spacing\": \"leading\"}",
            Rng = "CPU",
            EngineVersion = "0.1.0+abc",
            ExecutionProvider = "CPU",
            Duration = TimeSpan.FromMilliseconds(12345.678),
            Strength = 0.35,
            ParentId = "65a1b2c3d4e5f60718293a4b",
        };
        var created = new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);

        var png = WritePng([.. EmbeddedMetadata.ChunksFor(parameters, "65a1b2c3d4e5f60718293a4c", created)]);
        var read = EmbeddedMetadata.From(Read(png));

        Assert.Equal(MetadataSource.SdBlazor, read.Source);
        Assert.Equal(parameters, read.Parameters);
        Assert.Equal("65a1b2c3d4e5f60718293a4c", read.Id);
        Assert.Equal(created, read.CreatedUtc);
        // Our JSON stays ASCII, so it is a plain tEXt chunk any tool can read.
        Assert.Contains(PngChunkBytes.Parse(png), c => c.Type == "tEXt" && Encoding.Latin1.GetString(c.Data).StartsWith("sdblazor\0"));
        // …and the A1111 chunk alone still gives the essentials.
        var a1111 = Infotext.ToParameters(Infotext.Parse(read.Texts["parameters"]));
        Assert.Equal((parameters.Seed, parameters.Steps, parameters.Sampler, parameters.Model), (a1111.Seed, a1111.Steps, a1111.Sampler, a1111.Model));
    }

    [Fact]
    public void Reading_a_truncated_or_non_image_file_throws_an_imagesharp_format_error()
    {
        var png = WritePng(KeyValuePair.Create("parameters", "x"));
        Assert.ThrowsAny<ImageFormatException>(() => Read(Encoding.ASCII.GetBytes("just some text, not an image")));
        Assert.ThrowsAny<ImageFormatException>(() => Read(png[..20]));
    }
}

public class ExifUserCommentTests
{
    [Fact]
    public void Jpeg_parameters_are_read_from_exif_user_comment()
    {
        using var image = new Image<Rgb24>(8, 8);
        image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        const string text = "a jpeg prompt, 猫\nSteps: 10, Sampler: Euler, Seed: 3";
        image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.UserComment,
            new SixLabors.ImageSharp.Metadata.Profiles.Exif.EncodedString(SixLabors.ImageSharp.Metadata.Profiles.Exif.EncodedString.CharacterCode.Unicode, text));
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        ms.Position = 0;

        var metadata = EmbeddedMetadata.From(PngTextChunks.Read(ms));

        Assert.Equal(MetadataSource.Automatic1111, metadata.Source);
        Assert.Equal("a jpeg prompt, 猫", metadata.Parameters!.Prompt);
        Assert.Equal(3, metadata.Parameters.Seed);
    }
}
