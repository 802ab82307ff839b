namespace SdBlazor.Web.Storage;

public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddDataFolder(this IServiceCollection services)
    {
        services.AddOptions<DataFolderOptions>().BindConfiguration(DataFolderOptions.Section);
        services.AddSingleton<DataFolder>();
        return services;
    }
}
