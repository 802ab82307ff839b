using SdBlazor.Engine.Imaging;
using SixLabors.ImageSharp;

namespace SdBlazor.Engine.Tests.Imaging;

/// <summary>
/// Decompression bombs and lying headers (issue 27, item 3): each is refused (or read within the caps) before it
/// can allocate much. Allocation is measured on this thread, so a bomb that got inflated shows up in bytes.
/// </summary>
public sealed class HostileImageTests
{
    private const long Bomb = 256L << 20; // inflates to 256 MB from about 256 KB

    private static long AllocatedWhile(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static TheoryData<string> TextChunkTypes => new() { "zTXt", "iTXt" };

    [Theory]
    [MemberData(nameof(TextChunkTypes))]
    public void A_compressed_text_bomb_is_refused_after_inflating_at_most_the_cap(string type)
    {
        var zlib = HostilePng.ZeroBomb(Bomb);
        var data = type == "zTXt" ? HostilePng.ZTxt("parameters", zlib) : HostilePng.ITxt("parameters", zlib);
        var png = HostilePng.WithChunk(HostilePng.Valid(), HostilePng.Chunk(type, data));

        InvalidImageContentException? error = null;
        var allocated = AllocatedWhile(() => error = Assert.Throws<InvalidImageContentException>(() => PngTextChunks.Read(new MemoryStream(png))));

        Assert.Contains("longer than 1,024 KB", error!.Message);
        Assert.True(allocated < 16L << 20, $"reading the bomb allocated {allocated >> 20} MB");
        // Decoding ignores text chunks, so the bomb costs nothing there either (after the probe has refused it anyway).
        Assert.Throws<InvalidImageContentException>(() => SafeImage.Decode(png));
    }

    [Fact]
    public void A_plain_text_chunk_over_the_cap_and_too_many_chunks_are_refused()
    {
        var big = HostilePng.WithChunk(HostilePng.Valid(), HostilePng.Chunk("tEXt", HostilePng.TExt("parameters", new string('a', (1 << 20) + 1))));
        Assert.Throws<InvalidImageContentException>(() => SafeImage.Probe(big));

        var many = HostilePng.Valid();
        for (var i = 0; i < 300; i++) many = HostilePng.WithChunk(many, HostilePng.Chunk("tEXt", HostilePng.TExt($"k{i}", "v")));
        Assert.Contains("more than 256 text chunks", Assert.Throws<InvalidImageContentException>(() => SafeImage.Probe(many)).Message);
    }

    [Fact]
    public void Text_within_the_caps_is_read_from_every_text_chunk_type()
    {
        var zlib = HostilePng.ZeroBomb(0);
        var png = HostilePng.Valid();
        png = HostilePng.WithChunk(png, HostilePng.Chunk("tEXt", HostilePng.TExt("parameters", "a cat\nSteps: 5, Sampler: Euler, Seed: 1")));
        png = HostilePng.WithChunk(png, HostilePng.Chunk("zTXt", HostilePng.ZTxt("z", zlib)));
        png = HostilePng.WithChunk(png, HostilePng.Chunk("iTXt", [.. "i"u8, 0, 0, 0, 0, 0, .. "ünïcode"u8]));

        var texts = PngTextChunks.Read(new MemoryStream(png));

        Assert.Equal("a cat\nSteps: 5, Sampler: Euler, Seed: 1", texts["parameters"]);
        Assert.Equal("", texts["z"]);
        Assert.Equal("ünïcode", texts["i"]);
    }

    [Fact]
    public void Huge_dimensions_are_refused_from_the_header_before_any_pixel_is_allocated()
    {
        // 100 000 × 100 000 RGB: 30 GB of pixels, in an IDAT bomb that would inflate to them.
        var png = HostilePng.Png(HostilePng.Header(100_000, 100_000), HostilePng.Chunk("IDAT", HostilePng.ZeroBomb(1 << 20)), HostilePng.Chunk("IEND", []));
        long allocated = 0;
        var error = Assert.Throws<InvalidImageContentException>(() => allocated = AllocatedWhile(() => SafeImage.Decode(png)));
        Assert.Contains("at most 8192 pixels", error.Message);
    }

    [Fact]
    public void An_idat_bomb_under_a_small_header_decodes_only_what_the_header_asks_for()
    {
        // 64 × 64 pixels need 12 KB of scanlines; the IDAT stream inflates to 256 MB.
        var png = HostilePng.Png(HostilePng.Header(64, 64), HostilePng.Chunk("IDAT", HostilePng.ZeroBomb(Bomb)), HostilePng.Chunk("IEND", []));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var allocated = AllocatedWhile(() =>
        {
            using var image = SafeImage.Decode(png);
            Assert.Equal((64, 64), (image.Width, image.Height));
        });
        Assert.True(allocated < 32L << 20, $"decoding allocated {allocated >> 20} MB");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"decoding took {clock.Elapsed}");
    }

    [Fact]
    public void Lying_lengths_bad_crcs_truncation_and_missing_chunks_are_refused_with_a_message()
    {
        var valid = HostilePng.Valid();
        byte[][] cases =
        [
            // A chunk claiming 2 GB in a tiny file (ImageSharp 2 would allocate the claimed length).
            [.. valid.AsSpan(0, 33), 0x7F, 0xFF, 0xFF, 0xF0, .. "tEXt"u8, 1, 2, 3],
            HostilePng.WithChunk(valid, HostilePng.Chunk("tEXt", HostilePng.TExt("a", "b"), badCrc: true)),
            valid[..^12], // no IEND
            valid[..40],
            HostilePng.Png(HostilePng.Header(16, 16), HostilePng.Chunk("IEND", [])), // no IDAT
            HostilePng.Png(HostilePng.Chunk("IDAT", [1]), HostilePng.Header(16, 16), HostilePng.Chunk("IEND", [])), // IHDR not first
            HostilePng.Png(HostilePng.Header(16, 16, depth: 7), HostilePng.Chunk("IDAT", [1]), HostilePng.Chunk("IEND", [])),
            HostilePng.Png(HostilePng.Header(0, 16), HostilePng.Chunk("IDAT", [1]), HostilePng.Chunk("IEND", [])),
            HostilePng.WithChunk(valid, HostilePng.Chunk("zTXt", HostilePng.ZTxt("k", [1, 2, 3, 4]))), // broken zlib
            "not an image at all"u8.ToArray(),
        ];
        foreach (var png in cases)
        {
            var error = Assert.ThrowsAny<ImageFormatException>(() => SafeImage.Probe(png));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            Assert.ThrowsAny<ImageFormatException>(() => SafeImage.Decode(png));
        }
        using var ok = SafeImage.Decode(valid);
        Assert.Equal(16, ok.Width);
    }
}
