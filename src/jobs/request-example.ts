// The seed's minimal request, verbatim: the API document's request example, so the docs'
// "Try it out" sends a request this API accepts (with the project id of a first start).
export const MINIMAL_RENDER_REQUEST = {
  kind: 'movie',
  projectId: 'proj_abc123',
  movie: {
    width: 1920,
    height: 1080,
    fps: 30,
    scenes: [
      {
        id: 'scene_1',
        duration: 5,
        bgColor: '#1a1a2e',
        layers: [
          {
            id: 'headline',
            type: 'text',
            text: 'Hello from the API',
            startTime: 0,
            duration: 5,
            zIndex: 1,
            position: { x: 360, y: 460 },
            size: { width: 1200, height: 160 },
            fontSize: 80,
            fontWeight: 'bold',
            color: '#ffffff',
            textAlign: 'center',
          },
        ],
      },
    ],
  },
};
