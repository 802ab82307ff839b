using Microsoft.Extensions.FileProviders;

namespace SdBlazor.Web.Storage;

/// <summary>
/// Serves the repository's top-level <c>wwwroot/</c> (the design card's layout). The build copies it beside the app as
/// <c>toplevel-wwwroot/</c>, so dev runs, tests (which run from their own bin folder) and published apps all find it
/// without depending on the current directory.
/// </summary>
public static class TopLevelWebRoot
{
    public const string FolderName = "toplevel-wwwroot";

    public static IApplicationBuilder UseTopLevelWebRoot(this IApplicationBuilder app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, FolderName);
        if (!Directory.Exists(root)) return app;
        return app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root) });
    }
}
