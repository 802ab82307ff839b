using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Api.Extras;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// A hostile styles.csv (huge file, huge field, broken quoting, binary junk, more styles than a picker can show):
/// the app starts, <c>/sdapi/v1/prompt-styles</c> answers quickly with what is usable, and the store says why the
/// rest is left out.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class HostileStylesTests(ITestOutputHelper output)
{
    private async Task<(List<string> Names, StylesFile File)> ListAsync(Action<string> write)
    {
        using var factory = new SdApiFactory();
        write(Path.Combine(factory.DataPath, PromptStyleStore.FileName));
        var api = factory.Api();
        var clock = Stopwatch.StartNew();
        var reply = await api.GetJsonAsync("/sdapi/v1/prompt-styles");
        var first = clock.Elapsed;
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        clock.Restart();
        Assert.Equal(HttpStatusCode.OK, (await api.GetJsonAsync("/sdapi/v1/prompt-styles")).Status);
        output.WriteLine($"first answer {first.TotalMilliseconds:0} ms (app start included), cached {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a cached list took {clock.Elapsed}");
        var file = factory.Services.GetRequiredService<PromptStyleStore>().Read();
        output.WriteLine(file.Problem ?? "(no problem)");
        return ([.. reply.Body.EnumerateArray().Select(s => s.GetProperty("name").GetString()!)], file);
    }

    [Fact]
    public async Task A_file_over_the_limit_is_not_read_and_says_so()
    {
        var (names, file) = await ListAsync(path => HostileStyleFiles.Huge(path, 50L * 1024 * 1024));
        Assert.Empty(names);
        Assert.Equal("styles.csv is 50.0 MB; files over 4 MB are not read, so no styles are offered.", file.Problem);
    }

    [Fact]
    public async Task A_huge_field_skips_its_style_only()
    {
        var (names, file) = await ListAsync(path => HostileStyleFiles.HugeField(path, 3_000_000));
        Assert.Equal(["Good", "Also good"], names);
        Assert.Contains("style \"Giant\" has a prompt of 3,000,000 characters", file.Problem);
    }

    [Fact]
    public async Task Broken_quoting_keeps_the_styles_before_it_and_names_the_line()
    {
        var (names, file) = await ListAsync(HostileStyleFiles.BrokenQuoting);
        // The stray quote is read as written (A1111's csv module does the same); the unclosed quote eats the rest.
        Assert.Equal(["First", "Stray"], names);
        Assert.Contains("line 4: style \"Broken\" has a prompt of", file.Problem);
        Assert.Contains("an unclosed quote?", file.Problem);
        Assert.Contains("fields have stray quotes", file.Problem);
    }

    [Fact]
    public async Task Binary_junk_is_never_offered_as_styles()
    {
        var (withoutHeader, noHeader) = await ListAsync(path => HostileStyleFiles.BinaryJunk(path, 1024 * 1024, withHeader: false));
        Assert.Empty(withoutHeader);
        Assert.Contains("has no header line with a \"name\" column", noHeader.Problem);

        var (names, file) = await ListAsync(path => HostileStyleFiles.BinaryJunk(path, 1024 * 1024, withHeader: true));
        Assert.Contains("Clean", names);
        Assert.All(names, n => Assert.DoesNotContain(n, c => char.IsControl(c) || c == '\ufffd'));
        Assert.Contains("holds binary data", file.Problem);
    }

    [Fact]
    public async Task A_repeated_name_is_one_style_with_the_last_rows_text_as_in_a1111()
    {
        var (names, file) = await ListAsync(path => File.WriteAllText(path, HostileStyleFiles.Header + "Dup,first,\nOther,o,\nDup,second,neg\n"));
        Assert.Equal(["Dup", "Other"], names);
        Assert.Null(file.Problem);
        Assert.Equal(new PromptStyle("Dup", "second", "neg"), file.Styles[0]);
    }

    [Fact]
    public async Task More_styles_than_the_picker_shows_are_cut_with_a_message()
    {
        var (names, file) = await ListAsync(path => HostileStyleFiles.Many(path, 100_000));
        Assert.Equal(PromptStyleStore.MaxStyles, names.Count);
        Assert.Equal("Style 000001", names[0]);
        Assert.Equal("styles.csv: only the first 1,000 styles are offered (99,000 more left out).", file.Problem);
    }
}
